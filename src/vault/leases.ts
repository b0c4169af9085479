import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { openSecret } from "./cipher";
import { effectivePolicy, getCredential } from "./credentials";
import { getKeyring } from "./keyring";
import { isExpired, parseTtl, versionLabel } from "./store";
import { retireIdleVersions } from "./versions";

/**
 * Leases (seed 004): the one way a credential's value leaves the vault by name. A lease is
 * active while not revoked and not past `expiresAt`; it is on the version that was current
 * when it was issued and keeps reporting that version after a rotation.
 *
 * `maxLeases` is exact under concurrency: the insert is one statement whose WHERE counts the
 * active leases, and D1 runs a database's statements one at a time, so no two requests can
 * both take the last slot.
 */
interface LeaseRow {
  id: string;
  team_id: string;
  token_id: string;
  version: number;
  identity_type: string;
  identity_name: string;
  actor_type: string;
  actor_id: string;
  created_at: string;
  expires_at: string;
  max_expires_at: string;
  revoked_at: string | null;
  credential_name: string;
}

export function leaseView(row: LeaseRow, now = Date.now()) {
  const state = row.revoked_at ? "revoked" : Date.parse(row.expires_at) <= now ? "expired" : "active";
  return {
    id: row.id,
    credentialName: row.credential_name,
    version: row.version,
    state,
    expiresAt: row.expires_at,
    maxExpiresAt: row.max_expires_at,
    identity: { type: row.identity_type, name: row.identity_name },
    caller: { type: row.actor_type, id: row.actor_id },
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

export interface LeaseRequest {
  credentialName: string;
  ttl?: string | number | undefined;
  identity: { type: string; name: string };
}

const badTtl = (path: string) =>
  new AppError("validation_failed", "Invalid request body", { issues: [{ path, message: 'must be a duration like "90s", "15m", "4h", "7d" or a number of seconds' }] });

export async function createLease(ctx: TeamContext, input: LeaseRequest) {
  const { env, team } = ctx;
  const credential = await getCredential(ctx, input.credentialName);
  if (isExpired(credential.expires_at)) throw new AppError("secret_expired", "Credential expired", { expiresAt: credential.expires_at });
  const policy = effectivePolicy(credential.policy);
  const requested = input.ttl === undefined ? policy.defaultTtl : parseTtl(input.ttl);
  if (requested === undefined) throw badTtl("ttl");
  const ttl = Math.min(requested, policy.maxTtl);
  const now = Date.now();
  const at = new Date(now).toISOString();
  const expiresAt = new Date(now + ttl * 1000).toISOString();
  const maxExpiresAt = new Date(now + policy.maxTtl * 1000).toISOString();
  const id = newId.lease();
  const limit = policy.maxLeases ?? Number.MAX_SAFE_INTEGER;
  const identity = `${input.identity.type}:${input.identity.name}`;
  const [inserted, , read] = await env.DB.batch<{ version: number; ciphertext: string; iv: string; key_version: number }>([
    env.DB
      .prepare(
        `INSERT INTO leases (id, team_id, token_id, version, identity_type, identity_name, actor_type, actor_id, created_at, expires_at, max_expires_at)
         SELECT ?, t.team_id, t.id, t.current_version, ?, ?, ?, ?, ?, ?, ? FROM tokens t
         WHERE t.id = ? AND t.team_id = ? AND t.revoked_at IS NULL
           AND (SELECT COUNT(*) FROM leases l WHERE l.token_id = t.id AND l.revoked_at IS NULL AND l.expires_at > ?) < ?`,
      )
      .bind(id, input.identity.type, input.identity.name, ctx.actor.type, ctx.actor.id, at, expiresAt, maxExpiresAt, credential.id, team.id, at, limit),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "lease.created",
      targetType: "lease",
      targetId: id,
      requestId: ctx.requestId,
      metadata: { credentialName: credential.name, credentialId: credential.id, identity, ttlSeconds: ttl, capped: ttl < requested },
    }, at, { onlyIfChanged: true }),
    env.DB.prepare("SELECT l.version, t.ciphertext, t.iv, t.key_version FROM leases l JOIN tokens t ON t.id = l.token_id AND t.current_version = l.version WHERE l.id = ?").bind(id),
  ]);
  const sealed = read?.results[0];
  if (!inserted?.meta.changes || !sealed) {
    const earliest = await env.DB
      .prepare("SELECT MIN(expires_at) AS at FROM leases WHERE token_id = ? AND revoked_at IS NULL AND expires_at > ?")
      .bind(credential.id, at)
      .first<{ at: string | null }>();
    if (!earliest?.at) throw new AppError("not_found", "Credential not found");
    const retryAfter = Math.max(1, Math.ceil((Date.parse(earliest.at) - Date.now()) / 1000));
    throw new AppError("lease_limit_reached", `All ${policy.maxLeases} leases of "${credential.name}" are active; the earliest ends in ${retryAfter} seconds`, { maxLeases: policy.maxLeases, retryAfterSeconds: retryAfter }, { retryAfterSeconds: retryAfter });
  }
  const keyring = await getKeyring(env);
  const value = await openSecret(keyring, teamKeyMaterial(team), versionLabel(credential.id, sealed.version), { ciphertext: sealed.ciphertext, iv: sealed.iv, keyVersion: sealed.key_version });
  return {
    lease: {
      id,
      credentialName: credential.name,
      version: sealed.version,
      value,
      expiresAt,
      maxExpiresAt,
      identity: input.identity,
      createdAt: at,
      ttlSeconds: ttl,
      ...(ttl < requested ? { ttlCapped: true, maxLeaseTTLSeconds: policy.maxTtl } : {}),
    },
  };
}

const LEASE_COLUMNS = "l.*, t.name AS credential_name";

async function getLease(ctx: TeamContext, id: string): Promise<LeaseRow> {
  const row = await ctx.env.DB.prepare(`SELECT ${LEASE_COLUMNS} FROM leases l JOIN tokens t ON t.id = l.token_id WHERE l.id = ?`).bind(id).first<LeaseRow>();
  if (!row) throw new AppError("not_found", "Lease not found");
  if (row.team_id !== ctx.team.id) throw new AppError("access_denied");
  return row;
}

/**
 * Extends an active lease, never past its maxExpiresAt nor past the grace period of a rotated
 * version; an expired or revoked lease, or one whose version was retired, is 410.
 */
export async function renewLease(ctx: TeamContext, id: string, ttlInput: string | number | undefined) {
  const { env, team } = ctx;
  const row = await getLease(ctx, id);
  const credential = await env.DB.prepare("SELECT policy FROM tokens WHERE id = ?").bind(row.token_id).first<{ policy: string }>();
  const policy = effectivePolicy(credential?.policy ?? "{}");
  const ttl = ttlInput === undefined ? policy.defaultTtl : parseTtl(ttlInput);
  if (ttl === undefined) throw badTtl("ttl");
  const now = Date.now();
  const at = new Date(now).toISOString();
  const version = await env.DB.prepare("SELECT state, grace_until FROM credential_versions WHERE token_id = ? AND version = ?").bind(row.token_id, row.version).first<{ state: string; grace_until: string | null }>();
  if (version?.state === "retired") throw new AppError("lease_expired", "The lease's version was retired");
  const caps = [now + ttl * 1000, Date.parse(row.max_expires_at), ...(version?.grace_until ? [Date.parse(version.grace_until)] : [])];
  const expiresAt = new Date(Math.min(...caps)).toISOString();
  const [updated] = await env.DB.batch([
    env.DB.prepare("UPDATE leases SET expires_at = ? WHERE id = ? AND team_id = ? AND revoked_at IS NULL AND expires_at > ?").bind(expiresAt, id, team.id, at),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "lease.renewed",
      targetType: "lease",
      targetId: id,
      requestId: ctx.requestId,
      metadata: { credentialName: row.credential_name, identity: `${row.identity_type}:${row.identity_name}`, expiresAt, capped: expiresAt !== new Date(now + ttl * 1000).toISOString() },
    }, at, { onlyIfChanged: true }),
  ]);
  if (!updated?.meta.changes) throw new AppError("lease_expired");
  return { lease: leaseView({ ...row, expires_at: expiresAt }) };
}

/** Ends a lease at once (its slot is free for the next request); a rotated version it held may retire. */
export async function revokeLease(ctx: TeamContext, id: string) {
  const { env, team } = ctx;
  const row = await getLease(ctx, id);
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("UPDATE leases SET revoked_at = ? WHERE id = ? AND team_id = ? AND revoked_at IS NULL AND expires_at > ?").bind(at, id, team.id, at),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "lease.revoked",
      targetType: "lease",
      targetId: id,
      requestId: ctx.requestId,
      metadata: { credentialName: row.credential_name, identity: `${row.identity_type}:${row.identity_name}`, version: row.version },
    }, at, { onlyIfChanged: true }),
  ]);
  await retireIdleVersions(ctx, row.token_id);
  return { lease: leaseView(await getLease(ctx, id)) };
}

export async function listLeases(ctx: TeamContext, filters: { credentialName?: string | undefined; identity?: string | undefined; active?: boolean | undefined }) {
  const conditions = ["l.team_id = ?"];
  const args: string[] = [ctx.team.id];
  if (filters.credentialName !== undefined) conditions.push("t.name = ?"), args.push(filters.credentialName);
  if (filters.identity !== undefined) conditions.push("(l.identity_name = ? OR (l.identity_type || ':' || l.identity_name) = ?)"), args.push(filters.identity, filters.identity);
  if (filters.active) conditions.push("l.revoked_at IS NULL AND l.expires_at > ?"), args.push(new Date().toISOString());
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${LEASE_COLUMNS} FROM leases l JOIN tokens t ON t.id = l.token_id WHERE ${conditions.join(" AND ")} ORDER BY l.id DESC LIMIT 500`)
    .bind(...args)
    .all<LeaseRow>();
  return { leases: results.map((r) => leaseView(r)) };
}
