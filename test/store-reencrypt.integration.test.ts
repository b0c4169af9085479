import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createContext, type TeamContext } from "../src/context";
import type { Env } from "../src/env";
import { createCredential, rotateCredential } from "../src/vault/credentials";
import { reencryptBatch, vaultStatus } from "../src/vault/reencrypt";
import { resolveTokens } from "../src/vault/tokens";
import { newTeam } from "./helpers/api";
import { CANARY, TEST_MASTER_KEY_V1, TEST_MASTER_KEY_V2 } from "./helpers/constants";
import { adminContext, teamOf } from "./helpers/context";

const withKeys = (keys: Partial<Env>): Env => ({ ...env, VAULT_MASTER_KEY: undefined, VAULT_MASTER_KEYS: undefined, ...keys });

/** Master key re-encryption covers every live version of a credential, not only the current one. */
describe("re-encryption and versions", () => {
  it("re-encrypts a rotated version still in its grace period; both versions read under the new key alone", async () => {
    const v1Only = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 });
    const both = withKeys({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
    const v2Only = withKeys({ VAULT_MASTER_KEYS: `2:${TEST_MASTER_KEY_V2}` });
    const team = await teamOf((await newTeam()).team.id);
    const as = (worker: Env): TeamContext => createContext({ requestId: "req_test", env: worker, actor: { type: "admin" as const, id: "admin" as const }, team });

    const created = await createCredential(as(v1Only), { name: "reenc", type: "api-key", value: `${CANARY}-v1` });
    await rotateCredential(as(v1Only), "reenc", { newValue: `${CANARY}-v2`, gracePeriod: "1h" });
    const keyVersionOf = () => env.DB.prepare("SELECT key_version FROM credential_versions WHERE token_id = ? AND version = 1").bind(created.id).first<number>("key_version");
    expect(await keyVersionOf()).toBe(1);
    expect((await vaultStatus(adminContext(both))).pendingReencryption).toBeGreaterThanOrEqual(2);

    let result;
    do {
      result = await reencryptBatch(adminContext(both), 50);
      expect(JSON.stringify(result)).not.toContain(CANARY);
    } while (result.remaining > 0);
    expect(await keyVersionOf()).toBe(2);

    expect((await resolveTokens(as(v2Only), [created.id])).get(created.id)).toBe(`${CANARY}-v2`);
    expect((await resolveTokens(as(v2Only), [created.id], { [created.id]: 1 })).get(created.id)).toBe(`${CANARY}-v1`);
  });

  it("a version's ciphertext cannot stand in for another version (the label binds the version)", async () => {
    const team = await teamOf((await newTeam()).team.id);
    const as = createContext({ requestId: "req_test", env, actor: { type: "admin" as const, id: "admin" as const }, team });
    const created = await createCredential(as, { name: "swap", type: "api-key", value: "value-one" });
    await rotateCredential(as, "swap", { newValue: "value-two", gracePeriod: "1h" });
    // Copy version 1's ciphertext over the current (version 2) row: it must fail to decrypt.
    await env.DB.prepare("UPDATE tokens SET ciphertext = (SELECT ciphertext FROM credential_versions WHERE token_id = ?1 AND version = 1), iv = (SELECT iv FROM credential_versions WHERE token_id = ?1 AND version = 1) WHERE id = ?1").bind(created.id).run();
    await expect(resolveTokens(as, [created.id])).rejects.toThrow(/failed authentication/);
  });
});
