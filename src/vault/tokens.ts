import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { listPage, type PageQuery } from "../http/schemas";
import { openSecret, sealSecret } from "./cipher";
import { getKeyring } from "./keyring";

/** Token repository: metadata reads, encrypted writes, revocation and resolution. */
export interface TokenRow {
  id: string;
  team_id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
}

export function tokenView(row: TokenRow) {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}
export type TokenView = ReturnType<typeof tokenView>;

export async function createToken(ctx: TeamContext, input: { name: string; value: string }): Promise<TokenView> {
  const { env, team } = ctx;
  const { name, value } = input;
  const keyring = await getKeyring(env);
  const id = newId.token();
  const sealed = await sealSecret(keyring, teamKeyMaterial(team), id, value);
  const createdAt = new Date().toISOString();
  await env.DB.batch([
    env.DB
      .prepare("INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .bind(id, team.id, name, sealed.ciphertext, sealed.iv, sealed.keyVersion, createdAt),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "token.created",
      targetType: "token",
      targetId: id,
      requestId: ctx.requestId,
      metadata: { name, keyVersion: sealed.keyVersion },
    }, createdAt),
  ]);
  return tokenView({ id, team_id: team.id, name, created_at: createdAt, revoked_at: null });
}

const META_COLUMNS = "id, team_id, name, created_at, revoked_at";

/** Active tokens, newest first. */
export async function listTokens(ctx: TeamContext, page: PageQuery) {
  const { items, pagination } = await listPage<TokenRow>(ctx.env.DB, { table: "tokens", columns: META_COLUMNS, filters: { team_id: ctx.team.id }, where: "revoked_at IS NULL" }, page);
  return { tokens: items.map(tokenView), pagination };
}

/** 404 when no such token exists, 403 when it belongs to another team (seed 002). */
export async function getToken(ctx: TeamContext, id: string): Promise<TokenRow> {
  const row = await ctx.env.DB.prepare(`SELECT ${META_COLUMNS} FROM tokens WHERE id = ?`).bind(id).first<TokenRow>();
  if (!row) throw new AppError("not_found", "Token not found");
  if (row.team_id !== ctx.team.id) throw new AppError("access_denied");
  return row;
}

/**
 * Revokes immediately and for good: the ciphertext is erased in the same statement, so a
 * revoked token cannot be resolved or un-revoked by anyone, even with the master key. The
 * audit entry is inserted only if this call did the revoking (`changes()` in one batch).
 */
export async function revokeToken(ctx: TeamContext, id: string): Promise<TokenView> {
  const { env, team } = ctx;
  const row = await getToken(ctx, id);
  if (row.revoked_at) return tokenView(row);
  const revokedAt = new Date().toISOString();
  await env.DB.batch([
    env.DB
      .prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE id = ? AND team_id = ? AND revoked_at IS NULL")
      .bind(revokedAt, id, team.id),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "token.revoked",
      targetType: "token",
      targetId: id,
      requestId: ctx.requestId,
    }, revokedAt, { onlyIfChanged: true }),
  ]);
  const after = await getToken(ctx, id);
  return tokenView(after);
}

/** A reference that is unknown, revoked or another team's: deliberately indistinguishable. */
export class TokenUnavailableError extends Error {
  constructor(readonly tokenIds: string[]) {
    super(`tokens not available: ${tokenIds.join(", ")}`);
    this.name = "TokenUnavailableError";
  }
}

interface SealedRow {
  id: string;
  ciphertext: string;
  iv: string;
  key_version: number;
}

/** A condition an audit insert must also meet (SQL with its own parameters). */
export interface SqlGuard {
  sql: string;
  args: (string | number)[];
}

/**
 * The statements that resolve references, to run in one D1 batch: a read of every reference's
 * ciphertext and a `token.accessed` audit entry per token, written only if every reference is
 * active (a refused resolution audits nothing) and, with `guard`, only if that holds too (the
 * consumer puts them in its claim's batch, guarded by "this claim took the task"). `open` takes
 * the batch's results for these statements and decrypts.
 */
export function resolution(ctx: TeamContext, ids: string[], guard?: SqlGuard) {
  const { env, team } = ctx;
  const unique = [...new Set(ids)];
  if (unique.length === 0) return { statements: [] as D1PreparedStatement[], open: async (): Promise<Map<string, string>> => new Map() };
  const placeholders = unique.map(() => "?").join(", ");
  const allActive = `(SELECT COUNT(*) FROM tokens WHERE team_id = ? AND revoked_at IS NULL AND id IN (${placeholders})) = ${unique.length}`;
  const onlyIf = { sql: guard ? `${allActive} AND ${guard.sql}` : allActive, args: [team.id, ...unique, ...(guard?.args ?? [])] };
  const at = new Date().toISOString();
  const statements = [
    env.DB
      .prepare(`SELECT id, ciphertext, iv, key_version FROM tokens WHERE team_id = ? AND revoked_at IS NULL AND id IN (${placeholders})`)
      .bind(team.id, ...unique),
    ...unique.map((id) =>
      auditStatement(env.DB, {
        teamId: team.id,
        actor: ctx.actor,
        action: "token.accessed",
        targetType: "token",
        targetId: id,
        requestId: ctx.requestId,
      }, at, { onlyIf }),
    ),
  ];
  const open = async (results: D1Result[]): Promise<Map<string, string>> => {
    const rows = (results[0]?.results ?? []) as SealedRow[];
    const found = new Set(rows.map((r) => r.id));
    const missing = unique.filter((id) => !found.has(id));
    if (missing.length > 0) throw new TokenUnavailableError(missing);
    const keyring = await getKeyring(env);
    const values = await Promise.all(
      rows.map((r) => openSecret(keyring, teamKeyMaterial(team), r.id, { ciphertext: r.ciphertext, iv: r.iv, keyVersion: r.key_version })),
    );
    const resolved = new Map<string, string>();
    rows.forEach((r, i) => resolved.set(r.id, values[i] ?? ""));
    return resolved;
  };
  return { statements, open };
}

/**
 * Resolves references to plaintext on its own: one D1 batch reads all of them and audits each
 * (see `resolution`); then the team's cached key decrypts. Callers must drop the returned
 * values as soon as the outbound call is made.
 */
export async function resolveTokens(ctx: TeamContext, ids: string[]): Promise<Map<string, string>> {
  const { statements, open } = resolution(ctx, ids);
  if (statements.length === 0) return new Map();
  // The keyring first, as before: a missing master key fails before D1 is touched.
  await getKeyring(ctx.env);
  return open(await ctx.env.DB.batch(statements));
}
