import { auditStatement } from "../audit/audit";
import { sha256Hex, bytesToBase64Url } from "../encoding";
import type { UserContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { PLANS } from "../plans";
import { PlanLimitError } from "../auth/apikeys";
import { normalizeEmail } from "../auth/sessions";
import type { Role } from "./roles";
import { getTeam, teamView } from "./teams";
import type { Plan } from "../plans";

export { ROLES, type Role } from "./roles";

/**
 * Team membership: roles, members, invitations. Owners and admins manage members and keys;
 * members read. Only an owner grants, changes or removes the owner role, and a team always
 * keeps at least one owner.
 */
const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };
export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

/** The user's role in the team; 403 Access denied when not a member (or no such team). */
export async function requireRole(ctx: UserContext, teamId: string, atLeast: Role): Promise<Role> {
  const row = await ctx.env.DB.prepare("SELECT role FROM memberships WHERE team_id = ? AND user_id = ?").bind(teamId, ctx.actor.id).first<{ role: Role }>();
  if (!row) throw new AppError("access_denied");
  if (RANK[row.role] < RANK[atLeast]) throw new AppError("insufficient_role", `This requires the ${atLeast} role or higher`, { role: row.role });
  return row.role;
}

export async function myTeams(ctx: UserContext) {
  const { results } = await ctx.env.DB
    .prepare("SELECT t.id, t.name, t.plan, t.key_salt, t.created_at, t.slug, m.role FROM memberships m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.id")
    .bind(ctx.actor.id)
    .all<Parameters<typeof teamView>[0] & { role: Role }>();
  return results.map((r) => ({ ...teamView(r), role: r.role }));
}

export async function teamForMember(ctx: UserContext, teamId: string) {
  const role = await requireRole(ctx, teamId, "member");
  return { ...teamView(await getTeam(ctx, teamId)), role };
}

interface MemberRow {
  user_id: string;
  email: string;
  role: Role;
  created_at: string;
}
const memberView = (r: MemberRow) => ({ userId: r.user_id, email: r.email, role: r.role, createdAt: r.created_at });

export async function listMembers(ctx: UserContext, teamId: string) {
  const db = ctx.env.DB;
  await requireRole(ctx, teamId, "member");
  const [members, invitations] = await db.batch<MemberRow | { id: string; email: string; role: Role; created_at: string; expires_at: string }>([
    db.prepare("SELECT m.user_id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? ORDER BY m.created_at").bind(teamId),
    db.prepare("SELECT id, email, role, created_at, expires_at FROM invitations WHERE team_id = ? AND accepted_at IS NULL AND expires_at > ? ORDER BY id").bind(teamId, new Date().toISOString()),
  ]);
  return {
    members: ((members?.results ?? []) as MemberRow[]).map(memberView),
    invitations: ((invitations?.results ?? []) as { id: string; email: string; role: Role; created_at: string; expires_at: string }[]).map((i) => ({
      id: i.id,
      email: i.email,
      role: i.role,
      createdAt: i.created_at,
      expiresAt: i.expires_at,
    })),
  };
}

/** SQL for "members plus pending invitations of the team", the count the plan's limit applies to. */
const SEATS_SQL = `(SELECT COUNT(*) FROM memberships WHERE team_id = ?1) + (SELECT COUNT(*) FROM invitations WHERE team_id = ?1 AND accepted_at IS NULL AND expires_at > ?2)`;

/**
 * Adds a registered user at once, or invites an unregistered email with a one-time accept
 * token (returned here only). Both take a seat; the plan's member limit is checked in the
 * same statement as the insert, so concurrent adds cannot exceed it.
 */
export async function addMember(ctx: UserContext, teamId: string, emailInput: string, role: Role) {
  const db = ctx.env.DB;
  const callerRole = await requireRole(ctx, teamId, "admin");
  if (role === "owner" && callerRole !== "owner") throw new AppError("insufficient_role", "Only an owner can grant the owner role");
  const team = await getTeam(ctx, teamId);
  const max = PLANS[team.plan].maxMembers;
  const limit = Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER;
  const email = normalizeEmail(emailInput);
  const now = new Date().toISOString();
  const user = await db.prepare("SELECT id, email, created_at FROM users WHERE email = ?").bind(email).first<{ id: string; email: string; created_at: string }>();
  const actor = ctx.actor;
  if (user) {
    const existing = await db.prepare("SELECT role FROM memberships WHERE team_id = ? AND user_id = ?").bind(teamId, user.id).first();
    if (existing) throw new AppError("already_member");
    const [insert] = await db.batch([
      db
        .prepare(`INSERT OR IGNORE INTO memberships (team_id, user_id, role, created_at) SELECT ?3, ?4, ?5, ?2 WHERE ${SEATS_SQL} < ?6`)
        .bind(teamId, now, teamId, user.id, role, limit),
      auditStatement(db, { teamId, actor, action: "member.added", targetType: "user", targetId: user.id, requestId: ctx.requestId, metadata: { role } }, now, { onlyIfChanged: true }),
    ]);
    if (!insert?.meta.changes) {
      // A concurrent add of the same user, or the seat limit.
      const joined = await db.prepare("SELECT 1 FROM memberships WHERE team_id = ? AND user_id = ?").bind(teamId, user.id).first();
      if (joined) throw new AppError("already_member");
      throw new PlanLimitError("members", max, team.plan);
    }
    return { member: { userId: user.id, email: user.email, role, createdAt: now } };
  }
  const pending = await db
    .prepare("SELECT id FROM invitations WHERE team_id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ?")
    .bind(teamId, email, now)
    .first();
  if (pending) throw new AppError("invitation_pending");
  const acceptToken = `tvinv_${bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const id = newId.invitation();
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS).toISOString();
  const [insert] = await db.batch([
    db
      .prepare(
        `INSERT INTO invitations (id, team_id, email, role, token_hash, invited_by, created_at, expires_at)
         SELECT ?3, ?1, ?4, ?5, ?6, ?7, ?2, ?8 WHERE ${SEATS_SQL} < ?9`,
      )
      .bind(teamId, now, id, email, role, await sha256Hex(acceptToken), ctx.actor.id, expiresAt, limit),
    auditStatement(db, { teamId, actor, action: "invitation.created", targetType: "invitation", targetId: id, requestId: ctx.requestId, metadata: { role } }, now, { onlyIfChanged: true }),
  ]);
  if (!insert?.meta.changes) throw new PlanLimitError("members", max, team.plan);
  return { invitation: { id, email, role, createdAt: now, expiresAt }, acceptToken };
}

/** The signed-in user accepts an invitation addressed to their own email. */
export async function acceptInvitation(ctx: UserContext, token: string) {
  const db = ctx.env.DB;
  const row = await db
    .prepare("SELECT id, team_id, email, role, expires_at, accepted_at FROM invitations WHERE token_hash = ?")
    .bind(await sha256Hex(token))
    .first<{ id: string; team_id: string; email: string; role: Role; expires_at: string; accepted_at: string | null }>();
  if (!row || row.accepted_at || Date.parse(row.expires_at) < Date.now()) throw new AppError("not_found", "Invitation not found or expired");
  if (row.email !== normalizeEmail(ctx.actor.email)) throw new AppError("access_denied");
  const now = new Date().toISOString();
  const actor = ctx.actor;
  const [used] = await db.batch([
    // Valid only while unexpired and while its sender can still manage members of the team.
    db
      .prepare(
        `UPDATE invitations SET accepted_at = ?1 WHERE id = ?2 AND accepted_at IS NULL AND expires_at > ?1
           AND EXISTS (SELECT 1 FROM memberships m WHERE m.team_id = invitations.team_id AND m.user_id = invitations.invited_by AND m.role IN ('owner', 'admin'))`,
      )
      .bind(now, row.id),
    db
      .prepare("INSERT OR IGNORE INTO memberships (team_id, user_id, role, created_at) SELECT ?, ?, ?, ? WHERE changes() > 0")
      .bind(row.team_id, ctx.actor.id, row.role, now),
    auditStatement(db, { teamId: row.team_id, actor, action: "invitation.accepted", targetType: "invitation", targetId: row.id, requestId: ctx.requestId, metadata: { role: row.role } }, now, { onlyIfChanged: true }),
  ]);
  if (!used?.meta.changes) throw new AppError("not_found", "Invitation not found or expired");
  return { team: await teamForMember(ctx, row.team_id) };
}

async function targetMembership(db: D1Database, teamId: string, userId: string) {
  const row = await db.prepare("SELECT m.user_id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? AND m.user_id = ?").bind(teamId, userId).first<MemberRow>();
  if (!row) throw new AppError("not_found", "Member not found");
  return row;
}

/** SQL guard: true while the team would still have an owner other than ?2. */
const ANOTHER_OWNER = "EXISTS (SELECT 1 FROM memberships WHERE team_id = ?1 AND role = 'owner' AND user_id <> ?2)";

export async function changeRole(ctx: UserContext, teamId: string, userId: string, role: Role) {
  const db = ctx.env.DB;
  const callerRole = await requireRole(ctx, teamId, "admin");
  const target = await targetMembership(db, teamId, userId);
  if ((role === "owner" || target.role === "owner") && callerRole !== "owner") throw new AppError("insufficient_role", "Only an owner can grant or change the owner role");
  if (target.role === role) return { member: memberView(target) };
  const now = new Date().toISOString();
  const [update] = await db.batch([
    db
      .prepare(`UPDATE memberships SET role = ?3 WHERE team_id = ?1 AND user_id = ?2 AND (role <> 'owner' OR ${ANOTHER_OWNER})`)
      .bind(teamId, userId, role),
    auditStatement(db, { teamId, actor: ctx.actor, action: "member.role_changed", targetType: "user", targetId: userId, requestId: ctx.requestId, metadata: { from: target.role, to: role } }, now, { onlyIfChanged: true }),
  ]);
  if (!update?.meta.changes) throw new AppError("last_owner");
  return { member: memberView({ ...target, role }) };
}

export async function removeMember(ctx: UserContext, teamId: string, userId: string) {
  const db = ctx.env.DB;
  // Anyone may leave; removing someone else takes admin (and owner, for an owner).
  const callerRole = await requireRole(ctx, teamId, userId === ctx.actor.id ? "member" : "admin");
  const target = await targetMembership(db, teamId, userId);
  if (target.role === "owner" && callerRole !== "owner") throw new AppError("insufficient_role", "Only an owner can remove an owner");
  const now = new Date().toISOString();
  const [removed] = await db.batch([
    db.prepare(`DELETE FROM memberships WHERE team_id = ?1 AND user_id = ?2 AND (role <> 'owner' OR ${ANOTHER_OWNER})`).bind(teamId, userId),
    auditStatement(db, { teamId, actor: ctx.actor, action: "member.removed", targetType: "user", targetId: userId, requestId: ctx.requestId, metadata: { role: target.role } }, now, { onlyIfChanged: true }),
  ]);
  if (!removed?.meta.changes) throw new AppError("last_owner", "The last owner cannot be removed");
  return { member: memberView(target) };
}

/** Withdraws a pending invitation (its seat frees at once). */
export async function cancelInvitation(ctx: UserContext, teamId: string, invitationId: string) {
  const db = ctx.env.DB;
  await requireRole(ctx, teamId, "admin");
  const now = new Date().toISOString();
  const [removed] = await db.batch([
    db.prepare("DELETE FROM invitations WHERE id = ? AND team_id = ? AND accepted_at IS NULL").bind(invitationId, teamId),
    auditStatement(db, { teamId, actor: ctx.actor, action: "invitation.revoked", targetType: "invitation", targetId: invitationId, requestId: ctx.requestId }, now, { onlyIfChanged: true }),
  ]);
  if (!removed?.meta.changes) throw new AppError("not_found", "Invitation not found");
  return { cancelled: true as const };
}

/**
 * The team a user's request acts for on views both keys and users call: the one team the user
 * is a member of, or the one named by `X-Team-Id` (which must be one of theirs).
 */
export async function teamOfUser(db: D1Database, userId: string, named: string | null): Promise<{ id: string; keySalt: string; plan: Plan }> {
  const { results } = await db
    .prepare("SELECT t.id, t.key_salt, t.plan FROM memberships m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.id")
    .bind(userId)
    .all<{ id: string; key_salt: string; plan: Plan }>();
  const chosen = named ? results.find((r) => r.id === named.trim()) : results.length === 1 ? results[0] : undefined;
  if (!chosen) {
    if (!named && results.length > 1) throw new AppError("team_required", "You are a member of several teams: name one with the X-Team-Id header", { teams: results.map((r) => r.id) });
    throw new AppError("access_denied");
  }
  return { id: chosen.id, keySalt: chosen.key_salt, plan: chosen.plan };
}
