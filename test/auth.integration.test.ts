import { describe, expect, it } from "vitest";
import { routes } from "../src/routes";
import { call, newTeam } from "./helpers/api";
import { describeAdminAuthFailures, describeApiKeyAuthFailures } from "./helpers/auth-cases";

describe("API key authentication on every /v1 route", () => describeApiKeyAuthFailures(routes));
describe("admin authentication on every /admin route", () => describeAdminAuthFailures(routes));

describe("team API keys", () => {
  it("are 256-bit random keys with a scanner-friendly prefix, returned once", async () => {
    const a = await newTeam("free");
    const b = await newTeam("free");
    // tvk_ + the team id's 26 characters + 49 random base62 characters.
    expect(a.key).toMatch(/^tvk_[0-9a-z]{26}[0-9A-Za-z]{49}$/);
    expect(a.key.slice(4, 30)).toBe(a.team.id.slice(5));
    expect(a.key).not.toBe(b.key);
    expect(a.apiKey).toMatchObject({ id: expect.stringMatching(/^key_/), name: "Default key", prefix: a.key.slice(0, 34) });
    expect(a.team).toEqual({ id: expect.stringMatching(/^team_[0-9a-z]{26}$/), name: expect.any(String), plan: "free", createdAt: expect.any(String) });
    const listed = await call("GET", `/admin/teams/${a.team.id}/apikeys`, { admin: true });
    expect(listed.text).not.toContain(a.key);
    expect(listed.json.apiKeys).toHaveLength(1);
  });

  it("authenticate with Authorization: Bearer and with X-API-Key", async () => {
    const team = await newTeam("pro");
    expect((await call("GET", "/v1/tokens", { key: team.key })).status).toBe(200);
    expect((await call("GET", "/v1/tokens", { headers: { "x-api-key": team.key } })).status).toBe(200);
  });

  it("enforce the plan's key limit atomically, and free a slot on revocation", async () => {
    const free = await newTeam("free");
    const results = await Promise.all(
      [1, 2, 3].map((i) => call("POST", `/admin/teams/${free.team.id}/apikeys`, { admin: true, body: { name: `k${i}` } })),
    );
    expect(results.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(results[0]?.json).toEqual({ error: "Plan limit reached: the free plan allows 1 API keys", code: "plan_limit_reached", limit: 1, plan: "free" });
    await call("POST", `/admin/apikeys/${free.apiKey.id}/revoke`, { admin: true });
    const second = await call("POST", `/admin/teams/${free.team.id}/apikeys`, { admin: true, body: { name: "replacement" } });
    expect(second.status).toBe(201);
    expect((await call("GET", "/v1/tokens", { key: second.json.key })).status).toBe(200);

    const pro = await newTeam("pro");
    const many = await Promise.all(
      [1, 2, 3].map((i) => call("POST", `/admin/teams/${pro.team.id}/apikeys`, { admin: true, body: { name: `k${i}` } })),
    );
    expect(many.map((r) => r.status)).toEqual([201, 201, 201]);
  });

  it("revocation is idempotent and audited once", async () => {
    const team = await newTeam("pro");
    const first = await call("POST", `/admin/apikeys/${team.apiKey.id}/revoke`, { admin: true });
    const again = await call("POST", `/admin/apikeys/${team.apiKey.id}/revoke`, { admin: true });
    expect(first.json.apiKey.revokedAt).toEqual(expect.any(String));
    expect(again.json.apiKey.revokedAt).toBe(first.json.apiKey.revokedAt);
    const other = await newTeam("pro");
    expect((await call("GET", `/admin/teams/${team.team.id}`, { admin: true })).json.team.id).toBe(team.team.id);
    const { env } = await import("cloudflare:test");
    const { results } = await env.DB.prepare("SELECT action FROM audit_log WHERE team_id = ? AND action = 'apikey.revoked'").bind(team.team.id).all();
    expect(results).toHaveLength(1);
    expect((await call("GET", "/v1/tokens", { key: other.key })).status).toBe(200);
  });

  it("unknown team or key ids are 404s for the operator", async () => {
    expect((await call("GET", "/admin/teams/team_01jrx7m2k0000000000000000a", { admin: true })).json).toEqual({ error: "Team not found", code: "not_found" });
    expect((await call("POST", "/admin/apikeys/key_01jrx7m2k0000000000000000a/revoke", { admin: true })).status).toBe(404);
    expect((await call("GET", "/admin/teams/nope", { admin: true })).status).toBe(400);
  });
});

describe("last use of a key", () => {
  it("is recorded (at most once a minute) and shown to the operator", async () => {
    const team = await newTeam("pro");
    const before = await call("GET", `/admin/teams/${team.team.id}/apikeys`, { admin: true });
    expect(before.json.apiKeys[0].lastUsedAt).toBeNull();
    await call("GET", "/v1/tokens", { key: team.key });
    let lastUsedAt: string | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      lastUsedAt = (await call("GET", `/admin/teams/${team.team.id}/apikeys`, { admin: true })).json.apiKeys[0].lastUsedAt;
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 20));
    }
    expect(Date.parse(lastUsedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("the team's gate (auth cache in the Durable Object)", () => {
  it("refuses a key on the very next request after revocation, even while it is cached", async () => {
    const team = await newTeam("pro");
    const extra = await call("POST", `/admin/teams/${team.team.id}/apikeys`, { admin: true, body: { name: "warm" } });
    for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/tokens", { key: extra.json.key })).status).toBe(200);
    await call("POST", `/admin/apikeys/${extra.json.apiKey.id}/revoke`, { admin: true });
    expect((await call("GET", "/v1/tokens", { key: extra.json.key })).status).toBe(401);
    expect((await call("GET", "/v1/tokens", { key: team.key })).status).toBe(200);
  });

  it("keeps revocations across a restart of the object", async () => {
    const { env, runInDurableObject } = await import("cloudflare:test");
    const { TeamGate } = await import("../src/gate/team-gate");
    const { gateStub } = await import("../src/gate/client");
    const { sha256Hex } = await import("../src/encoding");
    const team = await newTeam("pro");
    await call("GET", "/v1/tokens", { key: team.key });
    await call("POST", `/admin/apikeys/${team.apiKey.id}/revoke`, { admin: true });
    const stub = gateStub(env, team.team.id);
    const hash = await sha256Hex(team.key);
    const fresh = await runInDurableObject(stub, (_instance, state) => new TeamGate(state, env).admit(hash, team.team.id));
    expect(fresh).toBeNull();
  });

  it("refuses a key whose team part was changed", async () => {
    const a = await newTeam("pro");
    const b = await newTeam("pro");
    const forged = `tvk_${b.team.id.slice(5)}${a.key.slice(30)}`;
    const res = await call("GET", "/v1/tokens", { key: forged });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
  });
});
