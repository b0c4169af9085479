import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { bytesToBase64Url } from "../encoding";
import type { Env } from "../env";
import { openSecret, sealSecret, type TeamKeyMaterial } from "../vault/cipher";
import { getKeyring } from "../vault/keyring";

/**
 * Each team's webhook signing secret (`whsec_...`), sealed with the team's vault key like a
 * token (its AAD names it as the webhook secret, so it cannot be swapped with a token row).
 */
export const webhookSecretLabel = (teamId: string) => `webhook-secret:${teamId}`;
const label = webhookSecretLabel;

interface SecretRow {
  ciphertext: string;
  iv: string;
  key_version: number;
  created_at: string;
}

export async function webhookSecret(ctx: TeamContext): Promise<{ secret: string; createdAt: string }> {
  const { env } = ctx;
  const team = teamKeyMaterial(ctx.team);
  const keyring = await getKeyring(env);
  let row = await env.DB.prepare("SELECT ciphertext, iv, key_version, created_at FROM webhook_secrets WHERE team_id = ?").bind(team.teamId).first<SecretRow>();
  if (!row) {
    const fresh = await newSecretRow(env, team);
    // Concurrent first uses agree on whichever insert landed first.
    await env.DB
      .prepare("INSERT OR IGNORE INTO webhook_secrets (team_id, ciphertext, iv, key_version, created_at) VALUES (?, ?, ?, ?, ?)")
      .bind(team.teamId, fresh.ciphertext, fresh.iv, fresh.key_version, fresh.created_at)
      .run();
    row = await env.DB.prepare("SELECT ciphertext, iv, key_version, created_at FROM webhook_secrets WHERE team_id = ?").bind(team.teamId).first<SecretRow>();
  }
  if (!row) throw new Error("webhook secret missing after insert");
  const secret = await openSecret(keyring, team, label(team.teamId), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
  return { secret, createdAt: row.created_at };
}

async function newSecretRow(env: Env, team: TeamKeyMaterial): Promise<SecretRow & { secret: string }> {
  const keyring = await getKeyring(env);
  const secret = `whsec_${bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const sealed = await sealSecret(keyring, team, label(team.teamId), secret);
  return { secret, ciphertext: sealed.ciphertext, iv: sealed.iv, key_version: sealed.keyVersion, created_at: new Date().toISOString() };
}

/** Replaces the secret at once; deliveries from now on are signed with the new one. */
export async function rotateWebhookSecret(ctx: TeamContext) {
  const { env, actor, requestId } = ctx;
  const team = teamKeyMaterial(ctx.team);
  const fresh = await newSecretRow(env, team);
  await env.DB.batch([
    env.DB
      .prepare(
        `INSERT INTO webhook_secrets (team_id, ciphertext, iv, key_version, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (team_id) DO UPDATE SET ciphertext = excluded.ciphertext, iv = excluded.iv, key_version = excluded.key_version, created_at = excluded.created_at`,
      )
      .bind(team.teamId, fresh.ciphertext, fresh.iv, fresh.key_version, fresh.created_at),
    auditStatement(env.DB, { teamId: team.teamId, actor, action: "webhook_secret.rotated", targetType: "team", targetId: team.teamId, requestId }, fresh.created_at),
  ]);
  return { secret: fresh.secret, createdAt: fresh.created_at };
}
