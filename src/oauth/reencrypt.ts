import type { Env } from "../env";
import type { SealedSecret } from "../vault/cipher";
import type { Keyring } from "../vault/keyring";
import { parseJsonObject } from "../vault/store";
import { clientSecretLabel, refreshTokenLabel } from "./store";

/**
 * Master key rotation for what OAuth credentials seal beside the row (refresh token, client
 * secret): resealed under the active version like the rows themselves (vault/reencrypt.ts).
 * The access token is the row's value and is resealed with it.
 */
export type Reseal = (row: { team_id: string; key_salt: string; ciphertext: string; iv: string; key_version: number }, label: string) => Promise<SealedSecret | null>;

/** Credentials with an extra sealed under an older version (SQL: one parameter, the active version). */
export const STALE_OAUTH = `(CAST(json_extract(sealed, '$.refreshToken.keyVersion') AS INTEGER) < ?1 OR CAST(json_extract(sealed, '$.clientSecret.keyVersion') AS INTEGER) < ?1)`;

export async function reencryptOAuthSecrets(env: Env, keyring: Keyring, limit: number, reseal: Reseal): Promise<number> {
  const active = keyring.activeVersion;
  const { results: rows } = await env.DB
    .prepare(`SELECT o.token_id, o.team_id, tm.key_salt, o.sealed, o.generation FROM oauth_credentials o JOIN teams tm ON tm.id = o.team_id WHERE ${STALE_OAUTH} LIMIT ?2`)
    .bind(active, limit)
    .all<{ token_id: string; team_id: string; key_salt: string; sealed: string; generation: number }>();
  const statements: D1PreparedStatement[] = [];
  for (const row of rows) {
    const extras = parseJsonObject(row.sealed) as { refreshToken?: SealedSecret; clientSecret?: SealedSecret };
    let ok = true;
    for (const [field, label] of [["refreshToken", refreshTokenLabel(row.token_id)], ["clientSecret", clientSecretLabel(row.token_id)]] as const) {
      const sealed = extras[field];
      if (!sealed || sealed.keyVersion >= active) continue;
      const next = await reseal({ team_id: row.team_id, key_salt: row.key_salt, ciphertext: sealed.ciphertext, iv: sealed.iv, key_version: sealed.keyVersion }, label);
      if (!next) ok = false;
      else extras[field] = next;
    }
    if (!ok) continue;
    // Guarded by the generation: a refresh in between wrote newer secrets (sealed under the active version).
    statements.push(
      env.DB.prepare("UPDATE oauth_credentials SET sealed = ?, generation = generation + 1 WHERE token_id = ? AND generation = ?").bind(JSON.stringify(extras), row.token_id, row.generation),
    );
  }
  const results = statements.length > 0 ? await env.DB.batch(statements) : [];
  return results.filter((r) => r.meta.changes > 0).length;
}
