/**
 * The user-facing contract of seeds 000 (Token Vault) and 002 (authentication, errors, rate
 * limits), exercised over HTTP against the real local server, to the letter.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { createTeam, request, type CreatedTeam } from "./helpers";

const TOKEN_ID = /^tok_[0-9a-z]{26}$/;
const isIsoDate = (value: unknown) => typeof value === "string" && new Date(value).toISOString() === value;

describe("service routes", () => {
  it("GET /healthz answers 200 without authentication", async () => {
    const res = await request("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok" });
  });

  it("GET /openapi.json is an OpenAPI 3.1 document listing /v1/tokens", async () => {
    const res = await request("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(res.json.paths["/v1/tokens"]).sort()).toEqual(["get", "post"]);
    expect(res.json.paths["/v1/tokens/{id}"]).toHaveProperty("delete");
  });
});

describe("POST /admin/teams", () => {
  it("creates a team and returns its first API key once", async () => {
    const res = await request("POST", "/admin/teams", { admin: true, body: { name: "Seed team", plan: "free" } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({
      team: { id: expect.stringMatching(/^team_/), name: "Seed team", plan: "free", createdAt: expect.any(String) },
      apiKey: expect.objectContaining({ id: expect.stringMatching(/^key_/), name: expect.any(String), createdAt: expect.any(String) }),
      key: expect.stringMatching(/^tvk_[0-9a-z]{26}[0-9A-Za-z]{49}$/),
    });
    expect(isIsoDate(res.json.team.createdAt)).toBe(true);
  });

  it("refuses a missing admin token", async () => {
    const res = await request("POST", "/admin/teams", { body: { name: "x", plan: "free" } });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: expect.any(String) });
  });
});

describe("tokens (seed 000)", () => {
  let team: CreatedTeam;
  beforeAll(async () => {
    team = await createTeam("free");
  });

  it("stores, lists and revokes the seed's examples; values are never returned", async () => {
    const fal = await request("POST", "/v1/tokens", { key: team.key, body: { name: "fal.ai Production Key", value: "your-fal-api-key-here" } });
    expect(fal.status).toBe(201);
    expect(fal.json).toEqual({ token: { id: expect.stringMatching(TOKEN_ID), name: "fal.ai Production Key", createdAt: expect.any(String) } });
    expect(isIsoDate(fal.json.token.createdAt)).toBe(true);

    // The seed's Replicate example, authenticated with the X-API-Key header this time.
    const replicate = await request("POST", "/v1/tokens", {
      headers: { "x-api-key": team.key },
      body: { name: "Replicate", value: "r8_your_replicate_token" },
    });
    expect(replicate.status).toBe(201);
    expect(replicate.json).toEqual({ token: { id: expect.stringMatching(TOKEN_ID), name: "Replicate", createdAt: expect.any(String) } });

    const list = await request("GET", "/v1/tokens", { key: team.key });
    expect(list.status).toBe(200);
    // Newest first, metadata only.
    expect(list.json.tokens).toEqual([replicate.json.token, fal.json.token]);
    for (const res of [fal, replicate, list]) {
      expect(res.text).not.toContain("your-fal-api-key-here");
      expect(res.text).not.toContain("r8_your_replicate_token");
    }

    const one = await request("GET", `/v1/tokens/${fal.json.token.id}`, { key: team.key });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ token: fal.json.token });

    const revoked = await request("DELETE", `/v1/tokens/${fal.json.token.id}`, { key: team.key });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toEqual({ token: { ...fal.json.token, revokedAt: expect.any(String) } });
    expect(isIsoDate(revoked.json.token.revokedAt)).toBe(true);

    const after = await request("GET", "/v1/tokens", { key: team.key });
    expect(after.json.tokens).toEqual([replicate.json.token]);
  });

  it("keeps a team from seeing or revoking another team's token", async () => {
    const other = await createTeam("free");
    const created = await request("POST", "/v1/tokens", { key: other.key, body: { name: "theirs", value: "their-secret" } });
    expect(created.status).toBe(201);
    const id = created.json.token.id as string;

    for (const method of ["GET", "DELETE"]) {
      const res = await request(method, `/v1/tokens/${id}`, { key: team.key });
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ error: "Access denied", code: "access_denied" });
    }
    const mine = await request("GET", "/v1/tokens", { key: team.key });
    expect(mine.json.tokens.map((t: { id: string }) => t.id)).not.toContain(id);
    // Still active for its owner after the refused DELETE.
    const theirs = await request("GET", `/v1/tokens/${id}`, { key: other.key });
    expect(theirs.json.token).not.toHaveProperty("revokedAt");
  });
});

describe("authentication (seed 002)", () => {
  let team: CreatedTeam;
  beforeAll(async () => {
    team = await createTeam("free");
  });

  it("accepts the key as Authorization: Bearer and as X-API-Key", async () => {
    const bearer = await request("GET", "/v1/tokens", { headers: { authorization: `Bearer ${team.key}` } });
    const header = await request("GET", "/v1/tokens", { headers: { "x-api-key": team.key } });
    expect(bearer.status).toBe(200);
    expect(header.status).toBe(200);
    expect(header.json).toEqual(bearer.json);
  });

  it('answers 401 {"error":"API key required"} without a key', async () => {
    const res = await request("GET", "/v1/tokens");
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: "API key required", code: "api_key_required" });
  });

  it('answers 401 {"error":"Invalid or revoked API key"} for a wrong key', async () => {
    const wellFormed = `tvk_${"A".repeat(43)}`;
    const attempts: Record<string, string>[] = [{ authorization: `Bearer ${wellFormed}` }, { "x-api-key": wellFormed }, { "x-api-key": "your-api-key" }];
    for (const headers of attempts) {
      const res = await request("GET", "/v1/tokens", { headers });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
    }
  });

  it("rejects a revoked key on the very next request", async () => {
    const victim = await createTeam("free");
    expect((await request("GET", "/v1/tokens", { key: victim.key })).status).toBe(200);

    const revoke = await request("POST", `/admin/apikeys/${victim.apiKey.id}/revoke`, { admin: true });
    expect(revoke.status).toBe(200);
    expect(revoke.json.apiKey).toMatchObject({ id: victim.apiKey.id, revokedAt: expect.any(String) });

    const attempts: Record<string, string>[] = [{ authorization: `Bearer ${victim.key}` }, { "x-api-key": victim.key }];
    for (const headers of attempts) {
      const res = await request("GET", "/v1/tokens", { headers });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
    }
  });
});

describe("rate-limit headers (seed 002)", () => {
  it("are on every authenticated response, with the Free plan's 60 per minute", async () => {
    const team = await createTeam("free");
    const first = await request("GET", "/v1/tokens", { key: team.key });
    const denied = await request("GET", `/v1/tokens/tok_${"0".repeat(26)}`, { key: team.key }); // a 404 is still a response
    expect(denied.status).toBe(404);
    const nowSeconds = Date.now() / 1000;
    for (const res of [first, denied]) {
      expect(res.headers.get("x-ratelimit-limit")).toBe("60");
      const reset = Number(res.headers.get("x-ratelimit-reset"));
      expect(Number.isInteger(reset)).toBe(true);
      expect(reset).toBeGreaterThan(nowSeconds - 5);
      expect(reset).toBeLessThanOrEqual(Math.ceil(nowSeconds) + 61);
    }
    expect(first.headers.get("x-ratelimit-remaining")).toBe("59");
    expect(denied.headers.get("x-ratelimit-remaining")).toBe("58");
  });
});

describe("errors are JSON with an error string", () => {
  let key: string;
  beforeAll(async () => {
    key = (await createTeam("free")).key;
  });

  const expectJsonError = (res: { status: number; headers: Headers; json: unknown }, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.json).toMatchObject({ error: expect.any(String) });
  };

  it("404 for an unknown route", async () => {
    expectJsonError(await request("GET", "/v1/nothing-here", { key }), 404);
  });

  it("405 with Allow for a method the path does not serve", async () => {
    const res = await request("PUT", "/v1/tokens", { key, body: {} });
    expectJsonError(res, 405);
    expect(res.headers.get("allow")?.split(/,\s*/).sort()).toEqual(["GET", "POST"]);
  });

  it("400 for malformed JSON", async () => {
    expectJsonError(await request("POST", "/v1/tokens", { key, body: '{"name": "x", "value": ' }), 400);
  });

  it("415 for a body that is not JSON", async () => {
    const res = await request("POST", "/v1/tokens", { key, body: "name=x&value=y", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectJsonError(res, 415);
  });
});
