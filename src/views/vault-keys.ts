import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext, type VaultContext } from "../context";
import { AppError } from "../errors";
import { gatewayChanged } from "../gateway/cache";
import { CREDENTIAL_KEY } from "../gateway/types";
import { newId } from "../ids";
import { openSecret, sealSecret } from "../vault/cipher";
import { getKeyring } from "../vault/keyring";
import { isExpired, versionLabel } from "../vault/store";
import { eraseVersionsStatement, newVersionStatements, retireIdleVersions } from "../vault/versions";

/**
 * Seed 003's vocabulary over the one store: a vault credential is a tokens row of kind
 * `vault_key` named by its KEY (UPPER_SNAKE_CASE). Setting an existing KEY writes a new version
 * (vault/versions.ts); several KEYs are set in one D1 batch with their audit rows. Each KEY has a
 * tok_ id like every credential of the store. Values leave only by the explicit reveal.
 */
export const MAX_KEY_LENGTH = 100;

interface VaultKeyRow {
  id: string;
  name: string;
  type: string;
  current_version: number;
  expires_at: string | null;
  created_at: string;
  updated_at: string | null;
  ciphertext: string;
  iv: string;
  key_version: number;
}

const COLUMNS = "id, name, type, current_version, expires_at, created_at, updated_at, ciphertext, iv, key_version";

export function vaultKeyView(row: VaultKeyRow, value?: string) {
  return {
    key: row.name,
    id: row.id,
    type: row.type,
    createdAt: row.created_at,
    updatedAt: row.updated_at ?? row.created_at,
    ...(isExpired(row.expires_at) ? { expired: true as const } : {}),
    ...(value !== undefined ? { value } : {}),
  };
}

/** Refuses KEYs that are not UPPER_SNAKE_CASE, naming them all (never a value). */
export function checkKeys(keys: readonly string[]): void {
  const bad = keys.filter((k) => k.length > MAX_KEY_LENGTH || !CREDENTIAL_KEY.test(k));
  if (bad.length > 0) {
    throw new AppError("invalid_credential_key", `Credential KEYs are UPPER_SNAKE_CASE (^[A-Z][A-Z0-9_]*$, at most ${MAX_KEY_LENGTH} characters)`, { keys: bad.map((k) => k.slice(0, MAX_KEY_LENGTH + 1)) });
  }
}

async function rowsByKey(ctx: TeamContext, keys: readonly string[]): Promise<Map<string, VaultKeyRow>> {
  if (keys.length === 0) return new Map();
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND revoked_at IS NULL AND name IN (${keys.map(() => "?").join(", ")})`)
    .bind(ctx.team.id, ...keys)
    .all<VaultKeyRow>();
  return new Map(results.map((r) => [r.name, r]));
}

/** The KEYs of `keys` the vault does not have (what a service may not name). */
export async function missingKeys(ctx: TeamContext, keys: readonly string[]): Promise<string[]> {
  const unique = [...new Set(keys)];
  const found = await rowsByKey(ctx, unique);
  return unique.filter((k) => !found.has(k));
}

/** What `vaultKeyStatements` will write, for the caller's batch and what it does after. */
export interface VaultKeyWrites {
  statements: D1PreparedStatement[];
  set: { key: string; id: string; version: number; created: boolean }[];
}

/** A batch failure meaning another writer got there first (an insert of the same KEY, or a version guard). */
export const isVaultKeyConflict = (error: unknown) => /UNIQUE|malformed JSON/i.test(String(error));

/**
 * The statements that set KEYs (new KEYs inserted, existing ones a new version, each audited),
 * for a caller that writes them in its own batch (setVaultKeys, an approved proposal).
 * An overwrite is based on the version read here. If another writer moved any of them first,
 * the guard fails the whole batch (SQLite raises on malformed JSON), so nothing is written.
 */
export async function vaultKeyStatements(ctx: TeamContext, values: Record<string, string>, at: string): Promise<VaultKeyWrites> {
  const { env, team } = ctx;
  const keys = Object.keys(values);
  checkKeys(keys);
  const existing = await rowsByKey(ctx, keys);
  const keyring = await getKeyring(env);
  const statements: D1PreparedStatement[] = [...existing.values()].map((row) =>
    env.DB
      .prepare("SELECT json(CASE WHEN EXISTS (SELECT 1 FROM tokens WHERE id = ? AND current_version = ? AND revoked_at IS NULL) THEN '1' ELSE 'version_conflict' END)")
      .bind(row.id, row.current_version),
  );
  const set: VaultKeyWrites["set"] = [];
  for (const key of keys.sort()) {
    const value = values[key] as string;
    const row = existing.get(key);
    if (row) {
      statements.push(
        ...(await newVersionStatements(ctx, { tokenId: row.id, fromVersion: row.current_version, value, graceUntil: null, set: { type: "static" }, audit: { action: "vault.credential.set", targetType: "credential", metadata: { key } } }, at)),
      );
      set.push({ key, id: row.id, version: row.current_version + 1, created: false });
      continue;
    }
    const id = newId.token();
    const sealed = await sealSecret(keyring, teamKeyMaterial(team), versionLabel(id, 1), value);
    statements.push(
      env.DB
        .prepare(
          `INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind, type, owner_type, created_by_key_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'vault_key', 'static', 'team', ?)`,
        )
        .bind(id, team.id, key, sealed.ciphertext, sealed.iv, sealed.keyVersion, at, ctx.actor.type === "api_key" ? ctx.actor.id : null),
      auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "vault.credential.set", targetType: "credential", targetId: id, requestId: ctx.requestId, metadata: { key, version: 1 } }, at),
    );
    set.push({ key, id, version: 1, created: true });
  }
  return { statements, set };
}

/**
 * Sets one or several KEYs at once: new KEYs are inserted, existing ones get a new version, all
 * in one batch (a bad KEY, a concurrent writer, or any failure changes nothing).
 */
export async function setVaultKeys(ctx: VaultContext, values: Record<string, string>) {
  const { env, team } = ctx;
  const at = new Date().toISOString();
  const { statements, set } = await vaultKeyStatements(ctx, values, at);
  try {
    await env.DB.batch(statements);
  } catch (error) {
    // Another writer inserted one of these KEYs, or moved one's version, meanwhile: the whole
    // batch is rolled back.
    if (isVaultKeyConflict(error)) throw new AppError("version_conflict", undefined, {}, { internal: String(error) });
    throw error;
  }
  await gatewayChanged(env, team.id);
  for (const s of set.filter((s) => !s.created)) await retireIdleVersions(ctx, s.id);
  return listVaultKeys(ctx, false);
}

export async function listVaultKeys(ctx: VaultContext, reveal: boolean) {
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND revoked_at IS NULL ORDER BY name LIMIT 1000`)
    .bind(ctx.team.id)
    .all<VaultKeyRow>();
  if (!reveal) return { credentials: results.map((r) => vaultKeyView(r)) };
  const keyring = await getKeyring(ctx.env);
  const credentials = [];
  for (const row of results) {
    // An expired KEY is listed without its value (it cannot be revealed, leased or used).
    const value = isExpired(row.expires_at) ? undefined : await openSecret(keyring, teamKeyMaterial(ctx.team), versionLabel(row.id, row.current_version), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
    credentials.push(vaultKeyView(row, value));
  }
  await ctx.env.DB.batch([
    auditStatement(ctx.env.DB, { teamId: ctx.team.id, actor: ctx.actor, action: "vault.credential.revealed", targetType: "team", targetId: ctx.team.id, requestId: ctx.requestId, metadata: { count: credentials.filter((c) => c.value !== undefined).length } }),
  ]);
  return { credentials };
}

async function getRow(ctx: VaultContext, key: string): Promise<VaultKeyRow> {
  checkKeys([key]);
  const row = (await rowsByKey(ctx, [key])).get(key);
  if (!row) throw new AppError("not_found", "Credential not found");
  return row;
}

/** Reveals one KEY's value (audited in the same batch as the read). */
export async function revealVaultKey(ctx: VaultContext, key: string) {
  const row = await getRow(ctx, key);
  if (isExpired(row.expires_at)) throw new AppError("secret_expired", "Credential expired", { expiresAt: row.expires_at });
  const keyring = await getKeyring(ctx.env);
  const value = await openSecret(keyring, teamKeyMaterial(ctx.team), versionLabel(row.id, row.current_version), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
  await ctx.env.DB.batch([
    auditStatement(ctx.env.DB, { teamId: ctx.team.id, actor: ctx.actor, action: "vault.credential.revealed", targetType: "credential", targetId: row.id, requestId: ctx.requestId, metadata: { key, version: row.current_version } }),
  ]);
  return { credential: vaultKeyView(row, value) };
}

/** The statements that remove a KEY for good (the row and its versions lose their ciphertext), audited. */
export function deleteVaultKeyStatements(ctx: TeamContext, row: { id: string; name: string }, at: string): D1PreparedStatement[] {
  const { env, team } = ctx;
  return [
    env.DB.prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE id = ? AND team_id = ? AND revoked_at IS NULL").bind(at, row.id, team.id),
    auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "vault.credential.deleted", targetType: "credential", targetId: row.id, requestId: ctx.requestId, metadata: { key: row.name } }, at, { onlyIfChanged: true }),
    eraseVersionsStatement(env, row.id, at),
  ];
}

/** The vault's live KEY rows among `keys` (id and name only). */
export async function vaultKeyRows(ctx: TeamContext, keys: readonly string[]): Promise<Map<string, { id: string; name: string; current_version: number }>> {
  return rowsByKey(ctx, keys);
}

/** Removes a KEY for good: the row and its versions lose their ciphertext, in one batch. */
export async function deleteVaultKey(ctx: VaultContext, key: string) {
  const { env, team } = ctx;
  const row = await getRow(ctx, key);
  const at = new Date().toISOString();
  const [deleted] = await env.DB.batch(deleteVaultKeyStatements(ctx, row, at));
  if (!deleted?.meta.changes) throw new AppError("not_found", "Credential not found");
  await gatewayChanged(env, team.id);
  return { credential: vaultKeyView(row) };
}
