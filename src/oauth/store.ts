import { auditStatement, type AuditEntry } from "../audit/audit";
import type { KnownActor } from "../context";
import type { Env } from "../env";
import { openSecret, sealSecret, type SealedSecret, type TeamKeyMaterial } from "../vault/cipher";
import { newId } from "../ids";
import { getKeyring } from "../vault/keyring";
import { parseJsonObject, versionLabel } from "../vault/store";
import type { IssuedTokens, OAuthClient, TokenAuthMethod } from "./token-endpoint";

/**
 * OAuth credentials in the one store. The credential is a vault KEY (tokens row, kind
 * 'vault_key', type 'oauth'); its sealed value is the current access token, so tok_ references
 * and the proxy inject it like any value. Beside it, oauth_credentials holds the client
 * configuration and the lifecycle, which are not secret and which the status route and the
 * refresher read without decrypting anything, plus the refresh token and client secret sealed
 * with the same cipher under their own labels (a ciphertext cannot be swapped for another).
 */
export interface OAuthRow {
  token_id: string;
  team_id: string;
  name: string;
  type: string;
  ciphertext: string;
  iv: string;
  key_version: number;
  current_version: number;
  token_url: string | null;
  authorization_url: string | null;
  client_id: string | null;
  scopes: string | null;
  auth_method: TokenAuthMethod;
  sealed: string;
  expires_at: string | null;
  connected_at: string;
  last_refreshed_at: string | null;
  last_error: string | null;
  needs_reconnect: number;
  generation: number;
}

export interface OAuthTarget {
  teamId: string;
  keySalt: string;
  tokenId: string;
}

export const material = (t: Pick<OAuthTarget, "teamId" | "keySalt">): TeamKeyMaterial => ({ teamId: t.teamId, salt: t.keySalt });

/** The labels the extra secrets are sealed under (AAD), distinct from every version label. */
export const refreshTokenLabel = (tokenId: string) => `${tokenId}#oauth:refresh_token`;
export const clientSecretLabel = (tokenId: string) => `${tokenId}#oauth:client_secret`;

interface SealedExtras {
  refreshToken?: SealedSecret;
  clientSecret?: SealedSecret;
}

const COLUMNS = `t.id AS token_id, t.team_id, t.name, t.type, t.ciphertext, t.iv, t.key_version, t.current_version,
  o.token_url, o.authorization_url, o.client_id, o.scopes, o.auth_method, o.sealed, o.expires_at, o.connected_at,
  o.last_refreshed_at, o.last_error, o.needs_reconnect, o.generation`;

/** The live OAuth credential with this id (null when deleted, not OAuth, or another team's). */
export async function loadById(env: Env, teamId: string, tokenId: string): Promise<OAuthRow | null> {
  return env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens t JOIN oauth_credentials o ON o.token_id = t.id WHERE t.id = ? AND t.team_id = ? AND t.revoked_at IS NULL AND t.type = 'oauth'`)
    .bind(tokenId, teamId)
    .first<OAuthRow>();
}

/** The live OAuth credential of a vault by KEY. */
export async function loadByKey(env: Env, teamId: string, key: string): Promise<OAuthRow | null> {
  return env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens t JOIN oauth_credentials o ON o.token_id = t.id WHERE t.team_id = ? AND t.kind = 'vault_key' AND t.name = ? AND t.revoked_at IS NULL AND t.type = 'oauth'`)
    .bind(teamId, key)
    .first<OAuthRow>();
}

export async function openAccessToken(env: Env, target: OAuthTarget, row: OAuthRow): Promise<string> {
  const keyring = await getKeyring(env);
  return openSecret(keyring, material(target), versionLabel(row.token_id, row.current_version), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
}

/** The client configuration with its secret opened, and the refresh token (or null). */
export async function openClient(env: Env, target: OAuthTarget, row: OAuthRow): Promise<{ client: OAuthClient | null; refreshToken: string | null }> {
  const keyring = await getKeyring(env);
  const extras = parseJsonObject(row.sealed) as SealedExtras;
  const open = (label: string, sealed: SealedSecret | undefined) => (sealed ? openSecret(keyring, material(target), label, sealed) : Promise.resolve(null));
  const [clientSecret, refreshToken] = await Promise.all([open(clientSecretLabel(row.token_id), extras.clientSecret), open(refreshTokenLabel(row.token_id), extras.refreshToken)]);
  if (!row.token_url) return { client: null, refreshToken };
  return { client: { tokenUrl: row.token_url, clientId: row.client_id, clientSecret, authMethod: row.auth_method }, refreshToken };
}

export const expiresAtFrom = (tokens: Pick<IssuedTokens, "expiresIn">, now = Date.now()) =>
  tokens.expiresIn === undefined ? null : new Date(now + tokens.expiresIn * 1000).toISOString();

export interface AuditBy {
  actor: KnownActor;
  requestId: string;
}

function audit(env: Env, teamId: string, by: AuditBy, action: AuditEntry["action"], tokenId: string, metadata: AuditEntry["metadata"], at: string, onlyIfChanged = true) {
  return auditStatement(env.DB, { teamId, actor: by.actor, action, targetType: "credential", targetId: tokenId, requestId: by.requestId, metadata }, at, { onlyIfChanged });
}

/**
 * Stores a refresh's result: the new access token (and the rotated refresh token, if the
 * provider sent one; the old one is kept otherwise), guarded by the generation the refresh
 * started from, so a reconnect or paste in between is never overwritten. False when the guard
 * failed (nothing written).
 */
export async function storeRefreshed(env: Env, target: OAuthTarget, row: OAuthRow, tokens: IssuedTokens, by: AuditBy): Promise<{ written: boolean; expiresAt: string | null }> {
  const keyring = await getKeyring(env);
  const key = material(target);
  const at = new Date().toISOString();
  const expiresAt = expiresAtFrom(tokens);
  const access = await sealSecret(keyring, key, versionLabel(row.token_id, row.current_version), tokens.accessToken);
  const extras = parseJsonObject(row.sealed) as SealedExtras;
  if (tokens.refreshToken) extras.refreshToken = await sealSecret(keyring, key, refreshTokenLabel(row.token_id), tokens.refreshToken);
  const guard = "EXISTS (SELECT 1 FROM oauth_credentials WHERE token_id = ? AND generation = ?)";
  const [first] = await env.DB.batch([
    env.DB
      .prepare(`UPDATE tokens SET ciphertext = ?, iv = ?, key_version = ?, updated_at = ? WHERE id = ? AND team_id = ? AND current_version = ? AND revoked_at IS NULL AND ${guard}`)
      .bind(access.ciphertext, access.iv, access.keyVersion, at, row.token_id, target.teamId, row.current_version, row.token_id, row.generation),
    env.DB
      .prepare(`UPDATE oauth_credentials SET sealed = ?, expires_at = ?, last_refreshed_at = ?, last_error = NULL, needs_reconnect = 0, generation = generation + 1, updated_at = ?
                WHERE token_id = ? AND generation = ? AND changes() > 0`)
      .bind(JSON.stringify(extras), expiresAt, at, at, row.token_id, row.generation),
    audit(env, target.teamId, by, "credential.oauth.refreshed", row.token_id, { key: row.name, rotatedRefreshToken: tokens.refreshToken !== undefined, ...(expiresAt ? { expiresAt } : {}) }, at),
  ]);
  return { written: (first?.meta.changes ?? 0) > 0, expiresAt };
}

/** Records a failed refresh; on invalid_grant the credential needs a reconnect. */
export async function storeRefreshFailure(env: Env, target: OAuthTarget, row: OAuthRow, error: string, needsReconnect: boolean, by: AuditBy): Promise<void> {
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB
      .prepare("UPDATE oauth_credentials SET last_error = ?, needs_reconnect = MAX(needs_reconnect, ?), generation = generation + 1, updated_at = ? WHERE token_id = ? AND generation = ?")
      .bind(error, needsReconnect ? 1 : 0, at, row.token_id, row.generation),
    audit(env, target.teamId, by, "credential.oauth.refresh_failed", row.token_id, { key: row.name, error: error.split(":")[0] ?? "error", needsReconnect }, at),
  ]);
}

export interface Connection {
  key: string;
  tokenUrl: string | null;
  authorizationUrl: string | null;
  clientId: string | null;
  clientSecret: string | null;
  scopes: string | null;
  authMethod: TokenAuthMethod;
  tokens: IssuedTokens;
  /** Provider-issued tokens to keep when none came back (paste of an access token alone). */
  via: "connect" | "paste";
}

/**
 * Stores a new connection of a KEY (connect's callback, or a paste): the KEY's row is created,
 * or an existing one (static or OAuth) becomes this OAuth credential, in one batch with its
 * configuration and the audit row. Returns the credential's id.
 */
export async function storeConnection(env: Env, team: { id: string; keySalt: string }, conn: Connection, by: AuditBy): Promise<string> {
  const keyring = await getKeyring(env);
  const existing = await env.DB
    .prepare("SELECT id, current_version FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND name = ? AND revoked_at IS NULL")
    .bind(team.id, conn.key)
    .first<{ id: string; current_version: number }>();
  const tokenId = existing?.id ?? newId.token();
  const version = existing?.current_version ?? 1;
  const key = { teamId: team.id, salt: team.keySalt };
  const at = new Date().toISOString();
  const access = await sealSecret(keyring, key, versionLabel(tokenId, version), conn.tokens.accessToken);
  const extras: SealedExtras = {};
  if (conn.tokens.refreshToken) extras.refreshToken = await sealSecret(keyring, key, refreshTokenLabel(tokenId), conn.tokens.refreshToken);
  if (conn.clientSecret) extras.clientSecret = await sealSecret(keyring, key, clientSecretLabel(tokenId), conn.clientSecret);
  const expiresAt = expiresAtFrom(conn.tokens);
  const createdBy = by.actor.type === "api_key" ? by.actor.id : null;
  const row = existing
    ? env.DB
        .prepare("UPDATE tokens SET ciphertext = ?, iv = ?, key_version = ?, type = 'oauth', updated_at = ? WHERE id = ? AND team_id = ? AND current_version = ? AND revoked_at IS NULL")
        .bind(access.ciphertext, access.iv, access.keyVersion, at, tokenId, team.id, version)
    : env.DB
        .prepare(
          `INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind, type, owner_type, created_by_key_id, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'vault_key', 'oauth', 'team', ?, ?)`,
        )
        .bind(tokenId, team.id, conn.key, access.ciphertext, access.iv, access.keyVersion, at, createdBy, at);
  let written: D1Result | undefined;
  try {
    [written] = await env.DB.batch([
    row,
    env.DB
      .prepare(
        `INSERT INTO oauth_credentials (token_id, team_id, token_url, authorization_url, client_id, scopes, auth_method, sealed, expires_at, connected_at, last_refreshed_at, last_error, needs_reconnect, generation, updated_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0, 1, ? WHERE changes() > 0
         ON CONFLICT (token_id) DO UPDATE SET token_url = excluded.token_url, authorization_url = excluded.authorization_url, client_id = excluded.client_id,
           scopes = excluded.scopes, auth_method = excluded.auth_method, sealed = excluded.sealed, expires_at = excluded.expires_at,
           connected_at = excluded.connected_at, last_refreshed_at = NULL, last_error = NULL, needs_reconnect = 0,
           generation = oauth_credentials.generation + 1, updated_at = excluded.updated_at`,
      )
      .bind(tokenId, team.id, conn.tokenUrl, conn.authorizationUrl, conn.clientId, conn.scopes, conn.authMethod, JSON.stringify(extras), expiresAt, at, at),
    audit(env, team.id, by, "credential.oauth.connected", tokenId, { key: conn.key, via: conn.via, refreshToken: conn.tokens.refreshToken !== undefined, ...(expiresAt ? { expiresAt } : {}) }, at),
    ]);
  } catch (error) {
    // Another writer created the KEY between the read and this batch.
    if (/UNIQUE/i.test(String(error))) throw new ConnectionConflict();
    throw error;
  }
  if (!written?.meta.changes) throw new ConnectionConflict();
  return tokenId;
}

/** The KEY changed (deleted, or written) while the connection was being stored. */
export class ConnectionConflict extends Error {
  constructor() {
    super("the credential changed while the OAuth connection was stored");
    this.name = "ConnectionConflict";
  }
}
