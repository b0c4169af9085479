import { auditStatement, type AuditAction, type AuditEntry } from "../audit/audit";
import { teamKeyMaterial, type IdentifiedContext, type TeamContext } from "../context";
import type { Env } from "../env";
import { sealSecret } from "./cipher";
import { getKeyring } from "./keyring";
import { versionLabel } from "./store";

/**
 * Versions of one credential. The current version's ciphertext is on the tokens row; a new
 * value (a rotation, or an update of a named secret) moves it to credential_versions as
 * `rotated` and seals the new value as version n+1, in one batch guarded by the version it
 * replaces. A rotated version is retired (ciphertext erased, `credential.version_retired`
 * audited) when nothing holds it any more and its grace period, if it has one, is over; or when
 * its grace period ends, whatever still holds it. Holders are active leases issued on it and
 * unfinished tasks created while it was current.
 */
export interface RotateInput {
  tokenId: string;
  fromVersion: number;
  value: string;
  graceUntil: string | null;
  /** Row fields changed in the same statement (column -> value), e.g. a secret's labels. */
  set?: Record<string, string | number | null>;
  audit: { action: AuditAction; targetType: AuditEntry["targetType"]; metadata?: AuditEntry["metadata"] };
}

/** Returns false when another writer changed the version first (nothing was written). */
export async function writeNewVersion(ctx: TeamContext, input: RotateInput): Promise<boolean> {
  const [moved] = await ctx.env.DB.batch(await newVersionStatements(ctx, input, new Date().toISOString()));
  if (!moved?.meta.changes) return false;
  await retireIdleVersions(ctx, input.tokenId);
  return true;
}

/**
 * The three statements of a new version (move the current one to credential_versions, seal the
 * new value on the row, audit), for a caller that writes several in one batch (vault KEYs set
 * at once). The first statement changes no row when another writer got there first; the caller
 * then retires idle versions (`retireIdleVersions`) after its batch.
 */
export async function newVersionStatements(ctx: TeamContext, input: RotateInput, at: string): Promise<D1PreparedStatement[]> {
  const { env, team } = ctx;
  const keyring = await getKeyring(env);
  const next = input.fromVersion + 1;
  const sealed = await sealSecret(keyring, teamKeyMaterial(team), versionLabel(input.tokenId, next), input.value);
  const extra = Object.entries(input.set ?? {});
  return [
    env.DB
      .prepare(
        `INSERT INTO credential_versions (token_id, version, team_id, ciphertext, iv, key_version, state, grace_until, created_at, rotated_at)
         SELECT id, current_version, team_id, ciphertext, iv, key_version, 'rotated', ?, COALESCE(updated_at, created_at), ?
         FROM tokens WHERE id = ? AND team_id = ? AND current_version = ? AND revoked_at IS NULL`,
      )
      .bind(input.graceUntil, at, input.tokenId, team.id, input.fromVersion),
    env.DB
      .prepare(
        `UPDATE tokens SET ciphertext = ?, iv = ?, key_version = ?, current_version = ?, updated_at = ?${extra.map(([c]) => `, ${c} = ?`).join("")}
         WHERE id = ? AND team_id = ? AND current_version = ? AND revoked_at IS NULL`,
      )
      .bind(sealed.ciphertext, sealed.iv, sealed.keyVersion, next, at, ...extra.map(([, v]) => v), input.tokenId, team.id, input.fromVersion),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: input.audit.action,
      targetType: input.audit.targetType,
      targetId: input.tokenId,
      requestId: ctx.requestId,
      metadata: { ...input.audit.metadata, version: next, previousVersion: input.fromVersion, ...(input.graceUntil ? { graceUntil: input.graceUntil } : {}) },
    }, at, { onlyIfChanged: true }),
  ];
}

/** The condition under which a rotated version `v` is retired (two parameters: now, now). */
const RETIRABLE = `v.state = 'rotated' AND (
  (v.grace_until IS NOT NULL AND v.grace_until <= ?)
  OR (v.grace_until IS NULL
      AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.token_id = v.token_id AND l.version = v.version AND l.revoked_at IS NULL AND l.expires_at > ?)
      AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.team_id = v.team_id AND k.status IN ('pending', 'delayed', 'processing', 'polling')
                      AND json_extract(k.token_versions, '$.' || v.token_id) = v.version)))`;

/**
 * Retires the rotated versions nothing holds any more: of one credential (after a rotation or
 * a lease's end), or of every team (the cron sweeper). Each retirement is one guarded UPDATE
 * with its audit row in the same batch.
 */
export async function retireIdleVersions(ctx: IdentifiedContext, tokenId?: string, limit = 100): Promise<number> {
  const { env } = ctx;
  const now = new Date().toISOString();
  const { results } = await env.DB
    .prepare(`SELECT v.token_id, v.version, v.team_id, v.grace_until FROM credential_versions v WHERE ${tokenId ? "v.token_id = ? AND " : ""}${RETIRABLE} LIMIT ?`)
    .bind(...(tokenId ? [tokenId] : []), now, now, limit)
    .all<{ token_id: string; version: number; team_id: string; grace_until: string | null }>();
  if (results.length === 0) return 0;
  const statements = results.flatMap((r) => [
    env.DB
      .prepare(`UPDATE credential_versions AS v SET state = 'retired', ciphertext = '', iv = '', retired_at = ? WHERE v.token_id = ? AND v.version = ? AND ${RETIRABLE}`)
      .bind(now, r.token_id, r.version, now, now),
    auditStatement(env.DB, {
      teamId: r.team_id,
      actor: ctx.actor,
      action: "credential.version_retired",
      targetType: "credential",
      targetId: r.token_id,
      requestId: ctx.requestId,
      metadata: { version: r.version, reason: r.grace_until && r.grace_until <= now ? "grace_period_ended" : "no_active_leases" },
    }, now, { onlyIfChanged: true }),
  ]);
  const done = await env.DB.batch(statements);
  return done.filter((r, i) => i % 2 === 0 && r.meta.changes > 0).length;
}

/** Erases every version of a deleted credential (the row's own ciphertext is erased with it). */
export function eraseVersionsStatement(env: Env, tokenId: string, at: string): D1PreparedStatement {
  return env.DB
    .prepare("UPDATE credential_versions SET state = 'retired', ciphertext = '', iv = '', retired_at = COALESCE(retired_at, ?) WHERE token_id = ?")
    .bind(at, tokenId);
}
