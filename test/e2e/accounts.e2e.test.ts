import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { logLinesWith, recorded, request, responseHits } from "./helpers";

const session = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe("accounts over HTTP", () => {
  it("signup -> create key -> use it on /v1/tokens -> revoke -> 401, with no password or key leaking", async () => {
    const password = `pw-canary-${randomBytes(12).toString("hex")}`;
    const email = `e2e-${randomBytes(6).toString("hex")}@example.com`;
    const signup = await request("POST", "/auth/signup", { body: { email, password, teamName: "E2E team" } });
    expect(signup.status).toBe(201);
    expect(signup.json).toMatchObject({ user: { email }, team: { plan: "free" }, token: expect.any(String) });
    const teamId = signup.json.team.id as string;

    const login = await request("POST", "/auth/login", { body: { email, password } });
    expect(login.status).toBe(200);
    const jwt = login.json.token as string;

    const created = await request("POST", `/teams/${teamId}/apikeys`, { ...session(jwt), body: { name: "Production Key" } });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    const keyId = created.json.apiKey.id as string;
    const createdAt = recorded.length;

    const stored = await request("POST", "/v1/tokens", { key, body: { name: "fal", value: "fal-key-value" } });
    expect(stored.status).toBe(201);
    expect((await request("GET", "/v1/tokens", { headers: { "x-api-key": key } })).json.tokens).toHaveLength(1);
    expect((await request("GET", `/teams/${teamId}/apikeys`, session(jwt))).json.apiKeys[0]).toMatchObject({ id: keyId, scopes: expect.any(Array) });
    expect((await request("GET", `/teams/${teamId}/members`, session(jwt))).json.members).toHaveLength(1);
    await request("POST", "/auth/login", { body: { email, password: `${password}-wrong` } });
    expect((await request("GET", "/v1/audit", { key })).json.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["login.failed", "apikey.created", "member.added", "token.created"]),
    );

    const revoked = await request("POST", `/apikeys/${keyId}/revoke`, session(jwt));
    expect(revoked.status).toBe(200);
    const refused = await request("GET", "/v1/tokens", { key });
    expect(refused.status).toBe(401);
    expect(refused.json).toEqual({ error: "Invalid or revoked API key" });

    // The password appears in no response at all, the full key in none after its creation, and neither in the log.
    expect(responseHits(password)).toEqual([]);
    expect(responseHits(key, createdAt)).toEqual([]);
    expect(logLinesWith(password)).toEqual([]);
    expect(logLinesWith(key)).toEqual([]);
    // Control: the log was captured and does record these requests.
    expect(logLinesWith("/v1/tokens").length).toBeGreaterThan(0);
  });

  it("refuses a tampered session token and an alg:none token", async () => {
    const email = `e2e-${randomBytes(6).toString("hex")}@example.com`;
    const signup = await request("POST", "/auth/signup", { body: { email, password: "long-enough-password", teamName: "t" } });
    const [h, p, s] = (signup.json.token as string).split(".");
    const none = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    for (const token of [`${h}.${p}.${s?.slice(0, -3)}abc`, `${none}.${p}.`]) {
      const res = await request("GET", "/teams", session(token));
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or expired session token" });
    }
  });
});
