import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { reencryptBatch, vaultStatus } from "../src/vault/reencrypt";
import { createContext, type TeamContext } from "../src/context";
import { createToken, resolveTokens } from "../src/vault/tokens";
import { webhookSecret } from "../src/webhooks/secret";
import { call, newTeam } from "./helpers/api";
import { CANARY, TEST_MASTER_KEY_V1, TEST_MASTER_KEY_V2 } from "./helpers/constants";
import { adminContext, teamOf } from "./helpers/context";

const admin = adminContext;

/** The operator acting for a team, under a Worker configured with the given master keys. */
async function callerFor(teamId: string): Promise<(worker: Env) => TeamContext> {
  const team = await teamOf(teamId);
  return (worker) => createContext({ requestId: "req_test", env: worker, actor: { type: "admin" as const, id: "admin" as const }, team });
}

/** The same D1 database seen by a Worker configured with other master keys. */
const withKeys = (keys: Partial<Env>): Env => ({ ...env, VAULT_MASTER_KEY: undefined, VAULT_MASTER_KEYS: undefined, ...keys });

describe("master key rotation", () => {
  it("writes new tokens with the newest key, still reads old ones, and re-encrypts them without returning plaintext", async () => {
    const v1Only = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 });
    const both = withKeys({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
    const v2Only = withKeys({ VAULT_MASTER_KEYS: `2:${TEST_MASTER_KEY_V2}` });

    const team = await newTeam();
    const caller = await callerFor(team.team.id);
    const old = await createToken(caller(v1Only), { name: "old", value: `${CANARY}-old` });
    const hookSecret = (await webhookSecret(caller(v1Only))).secret;
    const fresh = await createToken(caller(both), { name: "new", value: `${CANARY}-new` });
    const versionOf = (id: string) => env.DB.prepare("SELECT key_version FROM tokens WHERE id = ?").bind(id).first<number>("key_version");
    expect(await versionOf(old.id)).toBe(1);
    expect(await versionOf(fresh.id)).toBe(2);

    // Before re-encryption, v2 alone cannot read the old row: a clear operator error, not garbage.
    await expect(resolveTokens(caller(v2Only), [old.id])).rejects.toThrow(/version 1/);
    const read = await resolveTokens(caller(both), [old.id, fresh.id]);
    expect(read.get(old.id)).toBe(`${CANARY}-old`);

    const status = await vaultStatus(admin(both));
    expect(status.activeKeyVersion).toBe(2);
    expect(status.pendingReencryption).toBeGreaterThanOrEqual(1);

    let result;
    do {
      result = await reencryptBatch(admin(both), 50);
      expect(JSON.stringify(result)).not.toContain(CANARY);
    } while (result.remaining > 0);
    expect(await versionOf(old.id)).toBe(2);
    expect((await vaultStatus(admin(both))).pendingReencryption).toBe(0);

    // The old master key can now be retired.
    const after = await resolveTokens(caller(v2Only), [old.id, fresh.id]);
    expect((await webhookSecret(caller(v2Only))).secret).toBe(hookSecret);
    expect(after.get(old.id)).toBe(`${CANARY}-old`);
    expect(after.get(fresh.id)).toBe(`${CANARY}-new`);

    const audit = await call("GET", `/v1/audit?action=token.reencrypted&targetId=${old.id}`, { key: team.key });
    expect(audit.json.entries).toHaveLength(1);
    expect(audit.json.entries[0].metadata).toEqual({ fromKeyVersion: 1, toKeyVersion: 2 });
  });

  it("reports and skips a row it cannot open instead of stalling on it", async () => {
    const v1Only = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 });
    const both = withKeys({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
    const team = await newTeam();
    const caller = await callerFor(team.team.id);
    const broken = await createToken(caller(v1Only), { name: "broken", value: `${CANARY}-broken` });
    const healthy = await createToken(caller(v1Only), { name: "healthy", value: `${CANARY}-healthy` });
    // Corrupt one row's IV, as a bad restore or a manual edit would.
    await env.DB.prepare("UPDATE tokens SET iv = 'AAAAAAAAAAAAAAAA' WHERE id = ?").bind(broken.id).run();
    const seen: string[] = [];
    let after = "";
    for (let i = 0; i < 20; i++) {
      const page = await reencryptBatch(admin(both), 1, after);
      seen.push(...page.failed);
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    expect(seen).toContain(broken.id);
    const version = await env.DB.prepare("SELECT key_version FROM tokens WHERE id = ?").bind(healthy.id).first<number>("key_version");
    expect(version).toBe(2);
    expect((await resolveTokens(caller(both), [healthy.id])).get(healthy.id)).toBe(`${CANARY}-healthy`);
  });

  it("treats a VAULT_MASTER_KEY left beside VAULT_MASTER_KEYS as version 1, and refuses a conflicting one", async () => {
    const team = await newTeam();
    const caller = await callerFor(team.team.id);
    const old = await createToken(caller(withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 })), { name: "old", value: CANARY });
    const both = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1, VAULT_MASTER_KEYS: `2:${TEST_MASTER_KEY_V2}` });
    expect((await resolveTokens(caller(both), [old.id])).get(old.id)).toBe(CANARY);
    const conflicting = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V2, VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1}` });
    await expect(resolveTokens(caller(conflicting), [old.id])).rejects.toThrow(/differs from version 1/);
  });

  it("is exposed to the operator over HTTP", async () => {
    const status = await call("GET", "/admin/vault", { admin: true });
    expect(status.status).toBe(200);
    // The first test left a row sealed under version 2, which this Worker (v1 only) lacks.
    expect(status.json).toMatchObject({ activeKeyVersion: 1, configuredKeyVersions: [1], missingKeyVersions: [2] });
    const run = await call("POST", "/admin/vault/reencrypt", { admin: true, body: { limit: 10 } });
    expect(run.json).toEqual({ activeKeyVersion: 1, reencrypted: expect.any(Number), failed: expect.any(Array), remaining: expect.any(Number), nextCursor: null });
    expect((await call("POST", "/admin/vault/reencrypt", { admin: true, body: { limit: 0 } })).status).toBe(400);
  });
});
