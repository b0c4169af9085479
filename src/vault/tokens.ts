import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { listPage, type PageQuery } from "../http/schemas";
import { openSecret, sealSecret } from "./cipher";
import { getKeyring } from "./keyring";
import { parseAllowedHosts } from "./hosts";
import { NOT_EXPIRED, USABLE_BY_KEY, versionLabel } from "./store";

/** Token repository: metadata reads, encrypted writes, revocation and resolution. */
export interface TokenRow {
  id: string;
  team_id: string;
  name: string;
  created_at: string;
  revoked_at: string | null;
  kind: string;
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
  return tokenView({ id, team_id: team.id, name, created_at: createdAt, revoked_at: null, kind: "token" });
}

const META_COLUMNS = "id, team_id, name, created_at, revoked_at, kind";

/** Active tokens, newest first. */
export async function listTokens(ctx: TeamContext, page: PageQuery) {
  const { items, pagination } = await listPage<TokenRow>(ctx.env.DB, { table: "tokens", columns: META_COLUMNS, filters: { team_id: ctx.team.id, kind: "token" }, where: "revoked_at IS NULL" }, page);
  return { tokens: items.map(tokenView), pagination };
}

/**
 * 404 when no such token exists, 403 when it belongs to another team (seed 002). The tokens
 * view shows only what it made: a named secret or credential of the team is managed by its own
 * view (which applies its owner rules), so here it is not found.
 */
export async function getToken(ctx: TeamContext, id: string): Promise<TokenRow> {
  const row = await ctx.env.DB.prepare(`SELECT ${META_COLUMNS} FROM tokens WHERE id = ?`).bind(id).first<TokenRow>();
  if (!row) throw new AppError("not_found", "Token not found");
  if (row.team_id !== ctx.team.id) throw new AppError("access_denied");
  if (row.kind !== "token") throw new AppError("not_found", "Token not found");
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
  version: number;
  ciphertext: string;
  iv: string;
  key_version: number;
  allowed_hosts: string | null;
  type: string;
}

/** Resolved references: the values, and the hosts each may be sent to (null: unbound). */
export interface Resolved {
  values: Map<string, string>;
  allowedHosts: Map<string, string[] | null>;
  versions: Map<string, number>;
  /** Each credential's type ('oauth': its value is an access token the caller freshens, src/oauth/inject.ts). */
  types: Map<string, string>;
}

/** The API key a resolution acts for: a task's creator, or the calling key. */
function keyOf(ctx: TeamContext): string {
  return ctx.actor.type === "task" ? ctx.actor.apiKeyId : ctx.actor.type === "api_key" ? ctx.actor.id : "";
}

/**
 * Resolves references to plaintext for one execution: one D1 batch reads all of them and, in
 * the same round trip, writes a `token.accessed` audit entry per token (only if every
 * reference is available, so a refused resolution audits nothing); then the team's cached key
 * decrypts. A reference pinned to a version (a task keeps the versions it was created with)
 * reads that version, current or rotated; a retired version, an expired secret, or a secret
 * the acting key is not assigned is unavailable. Callers must drop the values as soon as the
 * outbound call is made.
 */
export async function resolveReferences(ctx: TeamContext, ids: string[], pinned: Readonly<Record<string, number>> = {}): Promise<Resolved> {
  const resolution = prepareResolution(ctx, ids, { pinned });
  if (resolution.statements.length === 0) return resolution.read([]);
  return resolution.read(await ctx.env.DB.batch(resolution.statements));
}

/** Where a resolution takes each reference's pinned version from. */
export type PinnedSource =
  | { pinned: Readonly<Record<string, number>> }
  /** The task's own `token_versions`, read in the same statement (a claim's batch has no row yet). */
  | { pinnedByTask: string };

/**
 * The statements of a resolution (the read, then one audit row per reference), to run in one
 * D1 batch on their own or inside another's (a task's claim: `guard` is then the condition that
 * holds only if that claim took the task, so a lost claim reads and audits nothing), and how to
 * turn their results (in order) into values.
 */
export function prepareResolution(
  ctx: TeamContext,
  ids: string[],
  source: PinnedSource,
  guard?: { sql: string; args: string[] },
): { statements: D1PreparedStatement[]; read(results: D1Result[], as?: TeamContext["team"]): Promise<Resolved> } {
  const { env, team } = ctx;
  const unique = [...new Set(ids)];
  if (unique.length === 0) return { statements: [], read: async () => emptyResolution() };
  const at = new Date().toISOString();
  // w.column1 = id, w.column2 = the pinned version (NULL: current).
  const pinnedOf = (id: string): { sql: string; args: (string | number | null)[] } =>
    "pinned" in source ? { sql: "?", args: [source.pinned[id] ?? null] } : { sql: "(SELECT json_extract(token_versions, ?) FROM tasks WHERE id = ?)", args: [`$.${id}`, source.pinnedByTask] };
  const rows = unique.map((id) => ({ id, pinned: pinnedOf(id) }));
  const wanted = rows.flatMap((r) => [r.id, ...r.pinned.args]);
  const select = `SELECT t.id,
      COALESCE(w.column2, t.current_version) AS version,
      CASE WHEN w.column2 IS NULL OR w.column2 = t.current_version THEN t.ciphertext ELSE v.ciphertext END AS ciphertext,
      CASE WHEN w.column2 IS NULL OR w.column2 = t.current_version THEN t.iv ELSE v.iv END AS iv,
      CASE WHEN w.column2 IS NULL OR w.column2 = t.current_version THEN t.key_version ELSE v.key_version END AS key_version,
      t.allowed_hosts, t.type
    FROM (VALUES ${rows.map((r) => `(?, ${r.pinned.sql})`).join(", ")}) w
    JOIN tokens t ON t.id = w.column1
    LEFT JOIN credential_versions v ON v.token_id = t.id AND v.version = w.column2
    WHERE t.team_id = ? AND t.revoked_at IS NULL AND ${NOT_EXPIRED} AND ${USABLE_BY_KEY}${guard ? ` AND ${guard.sql}` : ""}`;
  const args = [...wanted, team.id, at, keyOf(ctx), ...(guard?.args ?? [])];
  const available = `(SELECT COUNT(*) FROM (${select}) r WHERE r.ciphertext <> '') = ${unique.length}`;
  const statements = [
    env.DB.prepare(select).bind(...args),
    ...rows.map((r) =>
      auditStatement(env.DB, {
        teamId: team.id,
        actor: ctx.actor,
        action: "token.accessed",
        targetType: "token",
        targetId: r.id,
        requestId: ctx.requestId,
      }, at, {
        onlyIf: { sql: available, args },
        // The version, when pinned: {"version": n}.
        metadataFrom: { sql: `CASE WHEN ${r.pinned.sql} IS NULL THEN NULL ELSE json_object('version', ${r.pinned.sql}) END`, args: [...r.pinned.args, ...r.pinned.args] },
      }),
    ),
  ];
  return {
    statements,
    async read(results, as = team) {
      const resolved = emptyResolution();
      const sealed = ((results[0]?.results ?? []) as SealedRow[]).filter((r) => r.ciphertext);
      const found = new Set(sealed.map((r) => r.id));
      const missing = unique.filter((id) => !found.has(id));
      if (missing.length > 0) throw new TokenUnavailableError(missing);
      const keyring = await getKeyring(env);
      const values = await Promise.all(
        sealed.map((r) => openSecret(keyring, teamKeyMaterial(as), versionLabel(r.id, r.version), { ciphertext: r.ciphertext, iv: r.iv, keyVersion: r.key_version })),
      );
      sealed.forEach((r, i) => {
        resolved.values.set(r.id, values[i] ?? "");
        resolved.allowedHosts.set(r.id, parseAllowedHosts(r.allowed_hosts));
        resolved.versions.set(r.id, r.version);
        resolved.types.set(r.id, r.type);
      });
      return resolved;
    },
  };
}

const emptyResolution = (): Resolved => ({ values: new Map(), allowedHosts: new Map(), versions: new Map(), types: new Map() });

/** The values only (see resolveReferences). */
export async function resolveTokens(ctx: TeamContext, ids: string[], pinned: Readonly<Record<string, number>> = {}): Promise<Map<string, string>> {
  return (await resolveReferences(ctx, ids, pinned)).values;
}
