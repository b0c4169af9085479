import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { resolveTokens } from "../src/vault/tokens";
import { sweepVault } from "../src/vault/sweeper";
import { call } from "./helpers/api";
import { CANARY } from "./helpers/constants";
import { taskStepContext } from "./helpers/context";
import { auditRows, keyFor, proOwner } from "./helpers/store";

/** Credentials, leases and rotation (seed 004), as the seed's calls make them over HTTP. */
const OPENAI = {
  name: "openai-api-key-prod",
  type: "api-key",
  value: `sk-proj-${CANARY}`,
  metadata: { service: "openai", environment: "production", prefix: "sk-proj-", team: "ml-platform" },
  policy: { defaultLeaseTTL: "30m", maxLeaseTTL: "4h", maxLeases: 5 },
};

async function setup() {
  const owner = await proOwner();
  const k = await keyFor(owner);
  return { owner, k, key: k.key };
}

describe("credentials (seed 004)", () => {
  it("creates as the seed writes it; never returns the value; names are unique; prefix is checked", async () => {
    const { key, owner } = await setup();
    const created = await call("POST", "/v1/credentials", { key, body: OPENAI });
    expect(created.status).toBe(201);
    expect(created.json.credential).toMatchObject({
      id: expect.stringMatching(/^tok_/),
      name: "openai-api-key-prod",
      type: "api-key",
      metadata: OPENAI.metadata,
      policy: OPENAI.policy,
      effectivePolicy: { defaultLeaseTTLSeconds: 1800, maxLeaseTTLSeconds: 14400, maxLeases: 5 },
      currentVersion: 1,
      state: "active",
      allowedHosts: null,
    });
    expect(created.text).not.toContain(CANARY);
    const again = await call("POST", "/v1/credentials", { key, body: OPENAI });
    expect([again.status, again.json.code]).toEqual([409, "name_taken"]);
    const wrong = await call("POST", "/v1/credentials", { key, body: { ...OPENAI, name: "other", value: `sk_live_${CANARY}` } });
    expect([wrong.status, wrong.json.code]).toEqual([400, "value_prefix_mismatch"]);
    expect(wrong.text).not.toContain(CANARY);
    const empty = await call("POST", "/v1/credentials", { key, body: { ...OPENAI, name: "empty", value: "" } });
    expect([empty.status, empty.json.code]).toEqual([400, "validation_failed"]);
    const badTtl = await call("POST", "/v1/credentials", { key, body: { ...OPENAI, name: "ttl", policy: { defaultLeaseTTL: "soon" } } });
    expect([badTtl.status, badTtl.json.code]).toEqual([400, "validation_failed"]);
    // AWS from seed 004: no prefix, metadata carries the access key id.
    const aws = await call("POST", "/v1/credentials", {
      key,
      body: { name: "aws-deploy-key-prod", type: "api-key", value: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", metadata: { service: "aws", accessKeyId: "AKIAIOSFODNN7EXAMPLE", environment: "production", iamUser: "deploy-bot" } },
    });
    expect(aws.status).toBe(201);
    expect((await call("GET", "/v1/credentials?service=openai", { key })).json.credentials.map((c: { name: string }) => c.name)).toEqual(["openai-api-key-prod"]);
    expect((await call("GET", "/v1/credentials?environment=production", { key })).json.credentials).toHaveLength(2);
    expect((await call("GET", "/v1/credentials/aws-deploy-key-prod", { key })).json.credential.metadata.accessKeyId).toBe("AKIAIOSFODNN7EXAMPLE");
    const patched = await call("PATCH", "/v1/credentials/aws-deploy-key-prod", { key, body: { metadata: { service: "aws", rotateEvery: "90d" } } });
    expect(patched.json.credential.metadata).toEqual({ service: "aws", rotateEvery: "90d" });
    expect((await call("GET", "/v1/credentials?rotationDue=true", { key })).json.credentials).toEqual([]);
    await env.DB.prepare("UPDATE tokens SET created_at = '2020-01-01T00:00:00.000Z' WHERE name = 'aws-deploy-key-prod' AND team_id = ?").bind(owner.team.id).run();
    expect((await call("GET", "/v1/credentials?rotationDue=true", { key })).json.credentials.map((c: { name: string }) => c.name)).toEqual(["aws-deploy-key-prod"]);
    expect((await call("DELETE", "/v1/credentials/aws-deploy-key-prod", { key })).json.credential.state).toBe("deleted");
    expect((await call("GET", "/v1/credentials/aws-deploy-key-prod", { key })).status).toBe(404);
    const actions = (await auditRows(owner.team.id)).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["credential.created", "credential.updated", "credential.deleted"]));
  });

  it("leases: the value only in the issuing response; default and capped TTLs; renew within maxExpiresAt; revoke frees the slot", async () => {
    const { key, k, owner } = await setup();
    await call("POST", "/v1/credentials", { key, body: OPENAI });
    const lease = await call("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", ttl: "30m", identity: { type: "agent", name: "claude-code" } } });
    expect(lease.status).toBe(201);
    expect(lease.json.lease).toMatchObject({ id: expect.stringMatching(/^lease_/), credentialName: "openai-api-key-prod", version: 1, value: OPENAI.value, identity: { type: "agent", name: "claude-code" }, ttlSeconds: 1800 });
    expect(Date.parse(lease.json.lease.maxExpiresAt) - Date.parse(lease.json.lease.createdAt)).toBe(4 * 3600 * 1000);
    const byDefault = await call("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", identity: { type: "agent", name: "b" } } });
    expect(byDefault.json.lease.ttlSeconds).toBe(1800);
    const capped = await call("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", ttl: "7d", identity: { type: "agent", name: "c" } } });
    expect(capped.json.lease).toMatchObject({ ttlSeconds: 14400, ttlCapped: true, maxLeaseTTLSeconds: 14400 });
    const seconds = await call("POST", "/v1/leases", { key, body: { credentialName: "openai-api-key-prod", ttl: 90, identity: { type: "agent", name: "d" } } });
    expect(seconds.json.lease.ttlSeconds).toBe(90);

    const list = await call("GET", "/v1/leases?credentialName=openai-api-key-prod&identity=claude-code", { key });
    expect(list.json.leases).toHaveLength(1);
    expect(list.json.leases[0]).toMatchObject({ id: lease.json.lease.id, state: "active", caller: { type: "api_key", id: k.id } });
    expect(list.text).not.toContain(CANARY);

    const renewed = await call("POST", `/v1/leases/${lease.json.lease.id}/renew`, { key, body: { ttl: "7d" } });
    expect(renewed.status).toBe(200);
    expect(renewed.json.lease.expiresAt).toBe(lease.json.lease.maxExpiresAt);
    expect(renewed.text).not.toContain(CANARY);

    const revoked = await call("DELETE", `/v1/leases/${lease.json.lease.id}`, { key });
    expect([revoked.status, revoked.json.lease.state]).toEqual([200, "revoked"]);
    const late = await call("POST", `/v1/leases/${lease.json.lease.id}/renew`, { key, body: {} });
    expect([late.status, late.json.code]).toEqual([410, "lease_expired"]);
    // Expired leases are 410 too, and the sweeper records the expiry once.
    await env.DB.prepare("UPDATE leases SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = ?").bind(seconds.json.lease.id).run();
    expect((await call("POST", `/v1/leases/${seconds.json.lease.id}/renew`, { key, body: {} })).status).toBe(410);
    await sweepVault(env);
    await sweepVault(env);
    const rows = await auditRows(owner.team.id);
    expect(rows.filter((r) => r.action === "lease.expired" && r.target_id === seconds.json.lease.id)).toHaveLength(1);
    expect(rows.filter((r) => r.action === "lease.created")).toHaveLength(4);
    expect(JSON.parse(String(rows.find((r) => r.action === "lease.created")?.metadata))).toMatchObject({ identity: "agent:claude-code" });
    expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(["lease.renewed", "lease.revoked"]));
    expect(JSON.stringify(rows)).not.toContain(CANARY);
  });

  it("maxLeases is exact under concurrency: 50 requests at maxLeases 5 -> exactly 5 leases; the rest 429 with Retry-After", async () => {
    const { key } = await setup();
    await call("POST", "/v1/credentials", { key, body: OPENAI });
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, ttl: "10m", identity: { type: "agent", name: `a${i}` } } })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(45);
    const refused = results.find((r) => r.status === 429)!;
    expect(refused.json.code).toBe("lease_limit_reached");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(500);
    expect(retryAfter).toBeLessThanOrEqual(600);
    for (const r of results.filter((x) => x.status === 429)) expect(r.text).not.toContain(CANARY);
    // Revoking one frees exactly one slot at once.
    const one = results.find((r) => r.status === 201)!;
    await call("DELETE", `/v1/leases/${one.json.lease.id}`, { key });
    const next = await Promise.all([1, 2, 3].map((i) => call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, identity: { type: "agent", name: `n${i}` } } })));
    expect(next.map((r) => r.status).sort()).toEqual([201, 429, 429]);
  });

  it("rotation: a lease on the old version outlives it, new leases get the new value, the old version retires when the lease ends", async () => {
    const { key, owner } = await setup();
    const created = await call("POST", "/v1/credentials", { key, body: OPENAI });
    const id = created.json.credential.id as string;
    const old = await call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, identity: { type: "agent", name: "old" } } });
    const rotated = await call("POST", `/v1/credentials/${OPENAI.name}/rotate`, { key, body: { newValue: `sk-proj-newkey456-${CANARY}` } });
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ credential: { currentVersion: 2 }, previousVersion: { version: 1, state: "rotated", graceUntil: null } });
    expect(rotated.text).not.toContain(CANARY);
    const fresh = await call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, identity: { type: "agent", name: "new" } } });
    expect(fresh.json.lease).toMatchObject({ version: 2, value: `sk-proj-newkey456-${CANARY}` });
    const listed = (await call("GET", `/v1/leases?credentialName=${OPENAI.name}&identity=old`, { key })).json.leases[0];
    expect(listed).toMatchObject({ version: 1, state: "active" });
    const v1 = () => env.DB.prepare("SELECT state, ciphertext FROM credential_versions WHERE token_id = ? AND version = 1").bind(id).first<{ state: string; ciphertext: string }>();
    expect((await v1())?.state).toBe("rotated");
    // Tasks get the new value.
    const ctx = await taskStepContext(owner.team.id, (await keyFor(owner)).id);
    expect((await resolveTokens(ctx, [id])).get(id)).toBe(`sk-proj-newkey456-${CANARY}`);
    // A prefix mismatch on rotation writes nothing.
    const wrong = await call("POST", `/v1/credentials/${OPENAI.name}/rotate`, { key, body: { newValue: "sk_live_wrong" } });
    expect([wrong.status, wrong.json.code]).toEqual([400, "value_prefix_mismatch"]);
    await call("DELETE", `/v1/leases/${old.json.lease.id}`, { key });
    expect(await v1()).toEqual({ state: "retired", ciphertext: "" });
    const retired = (await auditRows(owner.team.id)).filter((r) => r.action === "credential.version_retired");
    expect(retired).toHaveLength(1);
    expect(JSON.parse(String(retired[0]?.metadata))).toMatchObject({ version: 1, reason: "no_active_leases" });
    expect((await auditRows(owner.team.id)).map((r) => r.action)).toContain("credential.rotated");
  });

  it("rotation with a grace period: the old version retires when the grace ends, whatever still holds it", async () => {
    const { key } = await setup();
    const created = await call("POST", "/v1/credentials", { key, body: OPENAI });
    const id = created.json.credential.id as string;
    const old = await call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, identity: { type: "agent", name: "old" } } });
    const rotated = await call("POST", `/v1/credentials/${OPENAI.name}/rotate`, { key, body: { newValue: "sk-proj-2", gracePeriod: "15m" } });
    expect(rotated.json.previousVersion.state).toBe("rotated");
    // A renewal never reaches past the grace period.
    const renewed = await call("POST", `/v1/leases/${old.json.lease.id}/renew`, { key, body: { ttl: "4h" } });
    expect(Date.parse(renewed.json.lease.expiresAt)).toBeLessThanOrEqual(Date.parse(rotated.json.previousVersion.graceUntil));
    await env.DB.prepare("UPDATE credential_versions SET grace_until = '2020-01-01T00:00:00.000Z' WHERE token_id = ?").bind(id).run();
    await sweepVault(env);
    const v1 = await env.DB.prepare("SELECT state, ciphertext FROM credential_versions WHERE token_id = ? AND version = 1").bind(id).first();
    expect(v1).toEqual({ state: "retired", ciphertext: "" });
    expect((await call("POST", `/v1/leases/${old.json.lease.id}/renew`, { key, body: {} })).status).toBe(410);
  });

  it("a task keeps the version it was created with for its whole life", async () => {
    const { key, k, owner } = await setup();
    const created = await call("POST", "/v1/credentials", { key, body: OPENAI });
    const id = created.json.credential.id as string;
    const task = await call("POST", "/v1/tasks", {
      key,
      body: { targetUrl: "https://api.example.com/predictions", method: "POST", headers: { authorization: `Bearer ${id}` }, body: "{}", delay: 3600 },
    });
    expect(task.status).toBe(201);
    const row = await env.DB.prepare("SELECT token_versions FROM tasks WHERE id = ?").bind(task.json.task?.id ?? task.json.id).first<{ token_versions: string }>();
    expect(JSON.parse(row!.token_versions)).toEqual({ [id]: 1 });
    await call("POST", `/v1/credentials/${OPENAI.name}/rotate`, { key, body: { newValue: "sk-proj-v2" } });
    // The task still holds version 1: it is not retired, and resolves for the task.
    const ctx = await taskStepContext(owner.team.id, k.id);
    expect((await resolveTokens(ctx, [id], { [id]: 1 })).get(id)).toBe(OPENAI.value);
    expect((await resolveTokens(ctx, [id])).get(id)).toBe("sk-proj-v2");
    const v1 = await env.DB.prepare("SELECT state FROM credential_versions WHERE token_id = ? AND version = 1").bind(id).first<{ state: string }>();
    expect(v1?.state).toBe("rotated");
  });
});

describe("credentials and leases across teams: 0 successes", () => {
  it("another team's key reaches nothing on any route", async () => {
    const { key } = await setup();
    const created = await call("POST", "/v1/credentials", { key, body: OPENAI });
    const lease = await call("POST", "/v1/leases", { key, body: { credentialName: OPENAI.name, identity: { type: "agent", name: "mine" } } });
    const other = await setup();
    const theirs = other.key;
    const attempts = [
      await call("GET", `/v1/credentials/${OPENAI.name}`, { key: theirs }),
      await call("PATCH", `/v1/credentials/${OPENAI.name}`, { key: theirs, body: { metadata: {} } }),
      await call("DELETE", `/v1/credentials/${OPENAI.name}`, { key: theirs }),
      await call("POST", `/v1/credentials/${OPENAI.name}/rotate`, { key: theirs, body: { newValue: "sk-proj-x" } }),
      await call("POST", "/v1/leases", { key: theirs, body: { credentialName: OPENAI.name, identity: { type: "agent", name: "x" } } }),
      await call("POST", `/v1/leases/${lease.json.lease.id}/renew`, { key: theirs, body: {} }),
      await call("DELETE", `/v1/leases/${lease.json.lease.id}`, { key: theirs }),
      await call("POST", "/v1/tasks", { key: theirs, body: { targetUrl: "https://api.example.com/x", method: "GET", headers: { authorization: `Bearer ${created.json.credential.id}` } } }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 403, 403, 400]);
    for (const r of attempts) expect(r.text).not.toContain(CANARY);
    expect((await call("GET", "/v1/credentials", { key: theirs })).json.credentials).toEqual([]);
    expect((await call("GET", "/v1/leases", { key: theirs })).json.leases).toEqual([]);
    expect((await call("GET", `/v1/leases/${lease.json.lease.id}`, { key })).status).toBe(405);
  });
});
