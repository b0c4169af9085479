import { DEFAULT_ROTATION_GRACE_SECONDS, MAX_ROTATION_GRACE_SECONDS } from "../api/webhooks";
import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { bytesToBase64 } from "../encoding";
import type { Env } from "../env";
import { log } from "../log";
import { openSecret, sealSecret, type TeamKeyMaterial } from "../vault/cipher";
import { getKeyring, type Keyring } from "../vault/keyring";

/**
 * Each team's webhook signing secret (`whsec_<base64 of 32 random bytes>`, the Standard
 * Webhooks form), sealed with the team's vault key like a token (its AAD names it as the
 * webhook secret, so it cannot be swapped with a token row). A rotation keeps the replaced
 * secret, sealed the same way, signing beside the new one until its grace period ends.
 */
export const webhookSecretLabel = (teamId: string) => `webhook-secret:${teamId}`;
const label = webhookSecretLabel;

// How long the replaced secret keeps signing after a rotation, unless the call says otherwise.
export { DEFAULT_ROTATION_GRACE_SECONDS, MAX_ROTATION_GRACE_SECONDS };

interface SecretRow {
  ciphertext: string;
  iv: string;
  key_version: number;
  created_at: string;
  previous_ciphertext: string | null;
  previous_iv: string | null;
  previous_key_version: number | null;
  previous_expires_at: string | null;
}

export interface WebhookSecretView {
  secret: string;
  createdAt: string;
  /** When the secret replaced by the last rotation stops signing (null: none signs any more). */
  previousSecretExpiresAt: string | null;
}

const COLUMNS = "ciphertext, iv, key_version, created_at, previous_ciphertext, previous_iv, previous_key_version, previous_expires_at";

async function loadRow(env: Env, team: TeamKeyMaterial): Promise<SecretRow> {
  const select = () => env.DB.prepare(`SELECT ${COLUMNS} FROM webhook_secrets WHERE team_id = ?`).bind(team.teamId).first<SecretRow>();
  let row = await select();
  if (!row) {
    const fresh = await newSecret(env, team);
    // Concurrent first uses agree on whichever insert landed first.
    await env.DB
      .prepare("INSERT OR IGNORE INTO webhook_secrets (team_id, ciphertext, iv, key_version, created_at) VALUES (?, ?, ?, ?, ?)")
      .bind(team.teamId, fresh.ciphertext, fresh.iv, fresh.keyVersion, fresh.createdAt)
      .run();
    row = await select();
  }
  if (!row) throw new Error("webhook secret missing after insert");
  return row;
}

const previousActive = (row: SecretRow, now: number) => row.previous_ciphertext !== null && row.previous_expires_at !== null && Date.parse(row.previous_expires_at) > now;

export async function webhookSecret(ctx: TeamContext, now = Date.now()): Promise<WebhookSecretView> {
  const team = teamKeyMaterial(ctx.team);
  const keyring = await getKeyring(ctx.env);
  const row = await loadRow(ctx.env, team);
  const secret = await openSecret(keyring, team, label(team.teamId), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
  return { secret, createdAt: row.created_at, previousSecretExpiresAt: previousActive(row, now) ? row.previous_expires_at : null };
}

/**
 * The secrets that sign a delivery now: the current one, then the one it replaced while its
 * grace period lasts. A previous secret that cannot be opened (its master key version was
 * retired during the grace period) is left out rather than failing the delivery.
 */
export async function signingSecrets(ctx: TeamContext, now = Date.now()): Promise<{ current: string; all: string[] }> {
  const team = teamKeyMaterial(ctx.team);
  const keyring = await getKeyring(ctx.env);
  const row = await loadRow(ctx.env, team);
  const current = await openSecret(keyring, team, label(team.teamId), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
  const previous = previousActive(row, now) ? await openPrevious(keyring, team, row) : null;
  return { current, all: previous ? [current, previous] : [current] };
}

async function openPrevious(keyring: Keyring, team: TeamKeyMaterial, row: SecretRow): Promise<string | null> {
  try {
    return await openSecret(keyring, team, label(team.teamId), { ciphertext: row.previous_ciphertext ?? "", iv: row.previous_iv ?? "", keyVersion: row.previous_key_version ?? 0 });
  } catch (error) {
    log.warn("webhook_previous_secret_unreadable", { teamId: team.teamId, errorName: error instanceof Error ? error.name : "unknown" });
    return null;
  }
}

async function newSecret(env: Env, team: TeamKeyMaterial) {
  const keyring = await getKeyring(env);
  const secret = `whsec_${bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))}`;
  const sealed = await sealSecret(keyring, team, label(team.teamId), secret);
  return { secret, ciphertext: sealed.ciphertext, iv: sealed.iv, keyVersion: sealed.keyVersion, createdAt: new Date().toISOString() };
}

/**
 * Replaces the secret: deliveries from now on are signed with the new one and, for
 * `graceSeconds` (0: not at all), with the replaced one too, so receivers can switch without
 * failing a delivery. A rotation during a grace period ends the older secret's at once.
 */
export async function rotateWebhookSecret(ctx: TeamContext, graceSeconds = DEFAULT_ROTATION_GRACE_SECONDS): Promise<WebhookSecretView> {
  const { env, actor, requestId } = ctx;
  const team = teamKeyMaterial(ctx.team);
  const fresh = await newSecret(env, team);
  const expiresAt = graceSeconds > 0 ? new Date(Date.parse(fresh.createdAt) + graceSeconds * 1000).toISOString() : null;
  // In the upsert's SET, bare column names are the row before the update: the replaced secret.
  const keep = expiresAt
    ? "previous_ciphertext = ciphertext, previous_iv = iv, previous_key_version = key_version, previous_expires_at = ?6"
    : "previous_ciphertext = NULL, previous_iv = NULL, previous_key_version = NULL, previous_expires_at = NULL";
  const [upsert] = await env.DB.batch([
    env.DB
      .prepare(
        `INSERT INTO webhook_secrets (team_id, ciphertext, iv, key_version, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (team_id) DO UPDATE SET ${keep},
           ciphertext = excluded.ciphertext, iv = excluded.iv, key_version = excluded.key_version, created_at = excluded.created_at
         RETURNING previous_expires_at`,
      )
      .bind(team.teamId, fresh.ciphertext, fresh.iv, fresh.keyVersion, fresh.createdAt, ...(expiresAt ? [expiresAt] : [])),
    auditStatement(
      env.DB,
      { teamId: team.teamId, actor, action: "webhook_secret.rotated", targetType: "team", targetId: team.teamId, requestId, metadata: { gracePeriodSeconds: graceSeconds } },
      fresh.createdAt,
    ),
  ]);
  const previousSecretExpiresAt = (upsert?.results[0] as { previous_expires_at: string | null } | undefined)?.previous_expires_at ?? null;
  return { secret: fresh.secret, createdAt: fresh.createdAt, previousSecretExpiresAt };
}
