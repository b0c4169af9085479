import { gatewayChanged } from "../gateway/cache";
import { auditStatement } from "../audit/audit";
import type { Context, IdentifiedContext } from "../context";
import type { Env } from "../env";
import { openSecret, sealSecret, type SealedSecret } from "./cipher";
import { getKeyring, type Keyring } from "./keyring";
import { log } from "../log";
import { webhookSecretLabel } from "../webhooks/secret";
import { reencryptOAuthSecrets, STALE_OAUTH } from "../oauth/reencrypt";
import { versionLabel } from "./store";

/**
 * Master key rotation: re-encrypts active tokens still sealed under an older master key
 * version with the newest one, a page at a time. Plaintext exists only in this isolate's
 * memory between decrypt and encrypt; it is never returned or logged. Each row's update is
 * guarded by its old version, so a concurrent run cannot double-apply.
 */
interface StaleRow {
  id: string;
  team_id: string;
  key_salt: string;
  ciphertext: string;
  iv: string;
  key_version: number;
  version: number;
}

/**
 * Opens one sealed value and seals it again under the active master key version; null (and
 * the label in `failed`) when it cannot be opened, so one bad row never blocks the page.
 */
async function reseal(keyring: Keyring, row: Pick<StaleRow, "team_id" | "key_salt" | "ciphertext" | "iv" | "key_version">, label: string, active: number, failed: string[]): Promise<SealedSecret | null> {
  const team = { teamId: row.team_id, salt: row.key_salt };
  try {
    const plaintext = await openSecret(keyring, team, label, { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
    return await sealSecret(keyring, team, label, plaintext, active);
  } catch (error) {
    failed.push(label);
    log.error("reencrypt_row_failed", { label, keyVersion: row.key_version, errorName: error instanceof Error ? error.name : "unknown" });
    return null;
  }
}

export async function vaultStatus(ctx: Context) {
  const { env } = ctx;
  const keyring = await getKeyring(env);
  const { results } = await env.DB
    .prepare(
      `SELECT key_version, COUNT(*) AS n FROM (
         SELECT key_version FROM tokens WHERE revoked_at IS NULL
         UNION ALL SELECT key_version FROM credential_versions WHERE state = 'rotated'
       ) GROUP BY key_version ORDER BY key_version`,
    )
    .all<{ key_version: number; n: number }>();
  return {
    activeKeyVersion: keyring.activeVersion,
    configuredKeyVersions: keyring.versions,
    activeTokensByKeyVersion: Object.fromEntries(results.map((r) => [String(r.key_version), r.n])),
    pendingReencryption: results.filter((r) => r.key_version < keyring.activeVersion).reduce((sum, r) => sum + r.n, 0),
    // Rows sealed under a version this deployment does not have cannot be read: configure it.
    missingKeyVersions: results.map((r) => r.key_version).filter((v) => !keyring.versions.includes(v)),
  };
}

/**
 * One page of re-encryption. A row that cannot be opened (corrupt, or sealed under a version
 * this deployment lacks) is reported by id and skipped, so it cannot block the rest: callers
 * pass `after` (the previous `nextCursor`) to move on.
 */
export async function reencryptBatch(ctx: IdentifiedContext, limit: number, after = "") {
  const { env } = ctx;
  const keyring = await getKeyring(env);
  const active = keyring.activeVersion;
  const { results: rows } = await env.DB
    .prepare(
      `SELECT t.id, t.team_id, tm.key_salt, t.ciphertext, t.iv, t.key_version, t.current_version AS version, t.kind
       FROM tokens t JOIN teams tm ON tm.id = t.team_id
       WHERE t.revoked_at IS NULL AND t.key_version < ? AND t.id > ? ORDER BY t.id LIMIT ?`,
    )
    .bind(active, after, limit)
    .all<StaleRow & { kind: string }>();
  const statements: D1PreparedStatement[] = [];
  const failed: string[] = [];
  const at = new Date().toISOString();
  for (const row of rows) {
    // A token's label is its id for version 1 (the failure list names the token).
    const sealed = await reseal(keyring, row, versionLabel(row.id, row.version), active, failed);
    if (!sealed) continue;
    statements.push(
      env.DB
        // Guarded by the version too: a rotation in between moved this ciphertext away.
        .prepare("UPDATE tokens SET ciphertext = ?, iv = ?, key_version = ? WHERE id = ? AND key_version = ? AND current_version = ? AND revoked_at IS NULL")
        .bind(sealed.ciphertext, sealed.iv, active, row.id, row.key_version, row.version),
      auditStatement(env.DB, {
        teamId: row.team_id,
        actor: ctx.actor,
        action: "token.reencrypted",
        targetType: "token",
        targetId: row.id,
        requestId: ctx.requestId,
        metadata: { fromKeyVersion: row.key_version, toKeyVersion: active },
      }, at, { onlyIfChanged: true }),
    );
  }
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  const reencrypted = results.filter((r, i) => i % 2 === 0 && r.meta.changes > 0).length;
  // The proxy may hold these vault KEYs' ciphertext: it must read the new one.
  for (const teamId of new Set(rows.filter((r) => r.kind === "vault_key").map((r) => r.team_id))) await gatewayChanged(env, teamId);
  const webhookSecrets = after === "" ? await reencryptWebhookSecrets(env, active, limit, failed) : 0;
  const versions = after === "" ? await reencryptRotatedVersions(env, active, limit, failed) : 0;
  const oauth = after === "" ? await reencryptOAuthSecrets(env, keyring, limit, (row, label) => reseal(keyring, row, label, active, failed)) : 0;
  const remaining = await env.DB
    .prepare(
      `SELECT (SELECT COUNT(*) FROM tokens WHERE revoked_at IS NULL AND key_version < ?1)
            + (SELECT COUNT(*) FROM webhook_secrets WHERE key_version < ?1)
            + (SELECT COUNT(*) FROM credential_versions WHERE state = 'rotated' AND key_version < ?1)
            + (SELECT COUNT(*) FROM oauth_credentials WHERE ${STALE_OAUTH}) AS n`,
    )
    .bind(active)
    .first<number>("n");
  const last = rows[rows.length - 1];
  return {
    activeKeyVersion: active,
    reencrypted: reencrypted + webhookSecrets + versions + oauth,
    failed,
    remaining: remaining ?? 0,
    nextCursor: rows.length === limit && last ? last.id : null,
  };
}

/** Webhook signing secrets are sealed with the same team keys and rotate with them. */
async function reencryptWebhookSecrets(env: Env, active: number, limit: number, failed: string[]): Promise<number> {
  const keyring = await getKeyring(env);
  const { results: rows } = await env.DB
    .prepare(
      `SELECT w.team_id, tm.key_salt, w.ciphertext, w.iv, w.key_version
       FROM webhook_secrets w JOIN teams tm ON tm.id = w.team_id WHERE w.key_version < ? LIMIT ?`,
    )
    .bind(active, limit)
    .all<Omit<StaleRow, "id">>();
  const statements: D1PreparedStatement[] = [];
  for (const row of rows) {
    const sealed = await reseal(keyring, row, webhookSecretLabel(row.team_id), active, failed);
    if (!sealed) continue;
    statements.push(
      env.DB
        .prepare("UPDATE webhook_secrets SET ciphertext = ?, iv = ?, key_version = ? WHERE team_id = ? AND key_version = ?")
        .bind(sealed.ciphertext, sealed.iv, active, row.team_id, row.key_version),
    );
  }
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  return results.filter((r) => r.meta.changes > 0).length;
}

/** Rotated (not yet retired) versions of credentials: still readable by leases and tasks, so rotated too. */
async function reencryptRotatedVersions(env: Env, active: number, limit: number, failed: string[]): Promise<number> {
  const keyring = await getKeyring(env);
  const { results: rows } = await env.DB
    .prepare(
      `SELECT v.token_id AS id, v.team_id, tm.key_salt, v.ciphertext, v.iv, v.key_version, v.version
       FROM credential_versions v JOIN teams tm ON tm.id = v.team_id WHERE v.state = 'rotated' AND v.key_version < ? LIMIT ?`,
    )
    .bind(active, limit)
    .all<StaleRow>();
  const statements: D1PreparedStatement[] = [];
  for (const row of rows) {
    const sealed = await reseal(keyring, row, versionLabel(row.id, row.version), active, failed);
    if (!sealed) continue;
    statements.push(
      env.DB
        .prepare("UPDATE credential_versions SET ciphertext = ?, iv = ?, key_version = ? WHERE token_id = ? AND version = ? AND key_version = ? AND state = 'rotated'")
        .bind(sealed.ciphertext, sealed.iv, active, row.id, row.version, row.key_version),
    );
  }
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  return results.filter((r) => r.meta.changes > 0).length;
}
