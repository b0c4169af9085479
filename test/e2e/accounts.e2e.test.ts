import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
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
    expect(refused.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });

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
      expect(res.json).toEqual({ error: "Invalid or expired session token", code: "invalid_session" });
    }
  });
});

describe("accounts over HTTP: limits, scopes, isolation, forged sessions", () => {
  const address = () => ({ "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}` });
  async function signup(label: string) {
    const email = `${label}-${randomBytes(6).toString("hex")}@example.com`;
    const res = await request("POST", "/auth/signup", { body: { email, password: "long-enough-password", teamName: label }, headers: address() });
    expect(res.status).toBe(201);
    return { email, teamId: res.json.team.id as string, userId: res.json.user.id as string, jwt: res.json.token as string };
  }
  const as = (jwt: string) => ({ authorization: `Bearer ${jwt}` });

  it("enforces Free limits (second key, third member) and lifts them on Pro", async () => {
    const u = await signup("limits");
    expect((await request("POST", `/teams/${u.teamId}/apikeys`, { headers: as(u.jwt), body: { name: "one" } })).status).toBe(201);
    const second = await request("POST", `/teams/${u.teamId}/apikeys`, { headers: as(u.jwt), body: { name: "two" } });
    expect(second.status).toBe(403);
    expect(second.json).toEqual({ error: "Plan limit reached: the free plan allows 1 API keys", code: "plan_limit_reached", limit: 1, plan: "free" });
    expect((await request("POST", `/teams/${u.teamId}/members`, { headers: as(u.jwt), body: { email: `m1-${u.email}` } })).status).toBe(201);
    expect((await request("POST", `/teams/${u.teamId}/members`, { headers: as(u.jwt), body: { email: `m2-${u.email}` } })).status).toBe(403);
    expect((await request("PATCH", `/admin/teams/${u.teamId}`, { admin: true, body: { plan: "pro" } })).json.team.plan).toBe("pro");
    expect((await request("POST", `/teams/${u.teamId}/apikeys`, { headers: as(u.jwt), body: { name: "two" } })).status).toBe(201);
    expect((await request("POST", `/teams/${u.teamId}/members`, { headers: as(u.jwt), body: { email: `m2-${u.email}` } })).status).toBe(201);
  });

  it("enforces scopes on /v1 routes", async () => {
    const u = await signup("scopes");
    const ro = await request("POST", `/teams/${u.teamId}/apikeys`, { headers: as(u.jwt), body: { name: "ro", scopes: ["tokens:read"] } });
    const key = ro.json.key as string;
    expect((await request("GET", "/v1/tokens", { key })).status).toBe(200);
    for (const [method, path, body] of [["POST", "/v1/tokens", { name: "x", value: "y" }], ["GET", "/v1/tasks"], ["POST", "/v1/tasks", { targetUrl: "https://api.example.com" }], ["GET", "/v1/audit"]] as const) {
      const res = await request(method, path, { key, body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json.requiredScope).toEqual(expect.stringMatching(/^(tokens|tasks|audit):/));
    }
  });

  it("refuses team A's user on team B's routes and B's resources with A's key", async () => {
    const a = await signup("a");
    const b = await signup("b");
    const bKey = await request("POST", `/teams/${b.teamId}/apikeys`, { headers: as(b.jwt), body: { name: "b" } });
    const aKey = (await request("POST", `/teams/${a.teamId}/apikeys`, { headers: as(a.jwt), body: { name: "a" } })).json.key as string;
    const bToken = (await request("POST", "/v1/tokens", { key: bKey.json.key, body: { name: "b", value: "b-value" } })).json.token.id as string;
    for (const [method, path, body] of [
      ["GET", `/teams/${b.teamId}`],
      ["GET", `/teams/${b.teamId}/members`],
      ["POST", `/teams/${b.teamId}/members`, { email: a.email }],
      ["GET", `/teams/${b.teamId}/apikeys`],
      ["POST", `/teams/${b.teamId}/apikeys`, { name: "mine" }],
      ["POST", `/apikeys/${bKey.json.apiKey.id}/revoke`],
    ] as const) {
      const res = await request(method, path, { headers: as(a.jwt), body });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json).toEqual({ error: "Access denied", code: "access_denied" });
    }
    expect((await request("GET", `/v1/tokens/${bToken}`, { key: aKey })).json).toEqual({ error: "Access denied", code: "access_denied" });
    expect((await request("GET", "/v1/tokens", { key: bKey.json.key })).json.tokens).toHaveLength(1);
  });

  it("refuses expired and wrongly signed session tokens", async () => {
    const u = await signup("jwt");
    const sign = (secret: string, claims: Record<string, unknown>) => {
      const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
      const unsigned = `${enc({ alg: "HS256", typ: "JWT" })}.${enc(claims)}`;
      return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
    };
    const now = Math.floor(Date.now() / 1000);
    const expired = sign(inject("jwtSecret"), { sub: u.userId, iat: now - 7200, exp: now - 3600, sv: 0 });
    const valid = sign(inject("jwtSecret"), { sub: u.userId, iat: now, exp: now + 600, sv: 0 });
    const wrongSecret = sign(randomBytes(32).toString("hex"), { sub: u.userId, iat: now, exp: now + 600, sv: 0 });
    expect((await request("GET", "/teams", { headers: as(valid) })).status).toBe(200);
    for (const token of [expired, wrongSecret]) {
      const res = await request("GET", "/teams", { headers: as(token) });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or expired session token", code: "invalid_session" });
    }
  });

  it("limits login attempts per email with 429 and Retry-After", async () => {
    const u = await signup("brute");
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 11; i++) {
      last = await request("POST", "/auth/login", { body: { email: u.email, password: `wrong-${i}-password` }, headers: address() });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});
