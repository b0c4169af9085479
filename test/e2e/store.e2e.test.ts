/**
 * The store's named views over HTTP against the local server: seed 001's and seed 004's calls
 * as written (host and keys adapted), and a canary search: each value appears in exactly the
 * responses that reveal it (GET /vault/secrets/:name, POST /v1/leases), never in another
 * response, a log line or an audit entry.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canary, logLinesWith, recorded, request, responseHits } from "./helpers";

async function ownerWithKey(scopes?: string[]) {
  const email = `store-${randomUUID()}@example.com`;
  const signup = await request("POST", "/auth/signup", { body: { email, password: "correct-horse-battery-staple", teamName: "store e2e" }, headers: { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}` } });
  expect(signup.status).toBe(201);
  const session = signup.json.token as string;
  const teamId = signup.json.team.id as string;
  await request("PATCH", `/admin/teams/${teamId}`, { admin: true, body: { plan: "pro" } });
  const key = await request("POST", `/teams/${teamId}/apikeys`, {
    headers: { authorization: `Bearer ${session}` },
    body: { name: "m2m", scopes: scopes ?? ["tokens:read", "tokens:write", "tasks:read", "tasks:write", "audit:read", "secrets:read", "secrets:write", "secrets:reveal"] },
  });
  expect(key.status).toBe(201);
  return { session, teamId, key: key.json.key as string };
}

describe("seed 001 over HTTP", () => {
  it("store, retrieve at runtime, list, delete; the value only in the retrieving response", async () => {
    const { key } = await ownerWithKey();
    const value = `sk-abc123-${canary()}`;
    const from = recorded.length;
    const stored = await request("POST", "/vault/secrets", { key, body: { name: "openai_api_key", value } });
    expect([stored.status, stored.json.success, stored.json.action]).toEqual([201, true, "created"]);
    const runtime = await request("GET", "/vault/secrets/openai_api_key", { key });
    expect(runtime.json).toEqual({ name: "openai_api_key", value, scope: [], expiresAt: null });
    const stripe = await request("POST", "/vault/secrets", { key, body: { name: "stripe_secret_key", value: "sk_live_x", scope: ["payments"], expiresAt: "2099-12-31T23:59:59Z" } });
    expect(stripe.json).toMatchObject({ success: true, action: "created" });
    const list = await request("GET", "/vault/secrets", { key });
    expect(list.json.secrets).toEqual([
      { name: "openai_api_key", id: expect.any(String), scope: [], expiresAt: null, createdAt: expect.any(String) },
      { name: "stripe_secret_key", id: expect.any(String), scope: ["payments"], expiresAt: "2099-12-31T23:59:59.000Z", createdAt: expect.any(String) },
    ]);
    const audit = await request("GET", "/v1/audit?limit=100", { key });
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(["vault.secret.created", "vault.secret.retrieved"]));
    const deleted = await request("DELETE", "/vault/secrets/openai_api_key", { key });
    expect(deleted.json).toEqual({ success: true, action: "deleted" });
    expect((await request("GET", "/vault/secrets/openai_api_key", { key })).status).toBe(404);
    expect(responseHits(value, from)).toEqual(["GET /vault/secrets/openai_api_key body"]);
    expect(logLinesWith(value)).toEqual([]);
  });

  it("a user-level secret: the user's session stores and reads it; the team's API key cannot", async () => {
    const { key, session } = await ownerWithKey();
    const value = canary();
    const from = recorded.length;
    const stored = await request("POST", "/vault/secrets", { headers: { authorization: `Bearer ${session}` }, body: { name: "my_personal_key", value } });
    expect(stored.status).toBe(201);
    expect((await request("GET", "/vault/secrets/my_personal_key", { key })).status).toBe(404);
    const mine = await request("GET", "/vault/secrets/my_personal_key", { headers: { authorization: `Bearer ${session}` } });
    expect(mine.json.value).toBe(value);
    expect(responseHits(value, from)).toEqual(["GET /vault/secrets/my_personal_key body"]);
  });
});

describe("seed 004 over HTTP", () => {
  it("create, lease, rotate, lease again; old lease keeps its version; values only in lease responses", async () => {
    const { key } = await ownerWithKey();
    const v1 = `sk-proj-${canary()}`;
    const v2 = `sk-proj-newkey456-${canary()}`;
    const from = recorded.length;
    const created = await request("POST", "/v1/credentials", {
      key,
      body: {
        name: "openai-api-key-prod",
        type: "api-key",
        value: v1,
        metadata: { service: "openai", environment: "production", prefix: "sk-proj-", team: "ml-platform" },
        policy: { defaultLeaseTTL: "30m", maxLeaseTTL: "4h", maxLeases: 5 },
      },
    });
    expect(created.status).toBe(201);
    const lease = await request("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", ttl: "30m", identity: { type: "agent", name: "claude-code" } } });
    expect(lease.json.lease).toMatchObject({ credentialName: "openai-api-key-prod", version: 1, value: v1 });
    const rotated = await request("POST", "/v1/credentials/openai-api-key-prod/rotate", { key, body: { newValue: v2 } });
    expect(rotated.json.previousVersion).toMatchObject({ version: 1, state: "rotated" });
    const next = await request("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", ttl: "30m", identity: { type: "agent", name: "claude-code" } } });
    expect(next.json.lease).toMatchObject({ version: 2, value: v2 });
    const leases = await request("GET", "/v1/leases?credentialName=openai-api-key-prod&identity=claude-code", { key });
    expect(leases.json.leases.map((l: { version: number }) => l.version).sort()).toEqual([1, 2]);
    const wrongSlot = await request("POST", "/v1/credentials", { key, body: { name: "wrong", type: "api-key", value: `sk_live_${canary()}`, metadata: { prefix: "sk-proj-" } } });
    expect(wrongSlot.json.code).toBe("value_prefix_mismatch");
    await request("DELETE", `/v1/leases/${lease.json.lease.id}`, { key });
    const audit = await request("GET", "/v1/audit?limit=100", { key });
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["credential.created", "lease.created", "credential.rotated", "lease.revoked", "credential.version_retired"]),
    );
    expect(responseHits(v1, from)).toEqual(["POST /v1/leases body"]);
    expect(responseHits(v2, from)).toEqual(["POST /v1/leases body"]);
    expect(logLinesWith(v1)).toEqual([]);
    expect(logLinesWith(v2)).toEqual([]);
  });
});
