import { auditStatement } from "../audit/audit";
import type { Context, ContextTeam, VaultContext } from "../context";
import { AppError } from "../errors";
import { gatewayChanged } from "../gateway/cache";
import type { Plan } from "../plans";
import type { Role } from "./roles";

/**
 * A team is a vault (issue 11): named in /v1/vaults/:vault by its slug or its id. This module
 * resolves the path's vault against the caller (the `vault` auth mode, http/app.ts) and serves
 * the vault's own settings.
 */
export type UnmatchedPolicy = "deny" | "passthrough";

interface VaultRow {
  id: string;
  name: string;
  plan: Plan;
  key_salt: string;
  slug: string;
  unmatched_policy: UnmatchedPolicy;
  created_at: string;
  role?: Role | null;
}

const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };
const VAULT_COLUMNS = "t.id, t.name, t.plan, t.key_salt, t.slug, t.unmatched_policy, t.created_at";

export function vaultView(row: VaultRow) {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    unmatchedPolicy: row.unmatched_policy,
    createdAt: row.created_at,
    ...(row.role ? { role: row.role } : {}),
  };
}

/**
 * The vault the path names, as the caller may see it. An API key reaches its own team only; a
 * user, a team they are a member of, with at least `minRole`. Anything else is 404
 * vault_not_found, whether the vault exists or not.
 */
export async function resolveVault(ctx: Context, ref: string, minRole: Role): Promise<{ team: ContextTeam & { plan: Plan; slug: string }; role: Role | undefined }> {
  const db = ctx.env.DB;
  let row: VaultRow | null = null;
  if (ctx.actor.type === "api_key" && ctx.team) {
    row = await db.prepare(`SELECT ${VAULT_COLUMNS} FROM teams t WHERE t.id = ?1 AND (t.id = ?2 OR t.slug = ?2)`).bind(ctx.team.id, ref).first<VaultRow>();
  } else if (ctx.actor.type === "user") {
    row = await db
      .prepare(`SELECT ${VAULT_COLUMNS}, m.role FROM teams t JOIN memberships m ON m.team_id = t.id AND m.user_id = ?1 WHERE t.id = ?2 OR t.slug = ?2`)
      .bind(ctx.actor.id, ref)
      .first<VaultRow>();
  }
  if (!row) throw new AppError("vault_not_found");
  if (row.role && RANK[row.role] < RANK[minRole]) throw new AppError("insufficient_role", `This requires the ${minRole} role or higher`, { role: row.role });
  return { team: { id: row.id, keySalt: row.key_salt, plan: row.plan, slug: row.slug }, role: row.role ?? undefined };
}

/** The caller's vaults: a user's memberships (with the role), an API key's own team. */
export async function listVaults(ctx: Context) {
  const db = ctx.env.DB;
  if (ctx.actor.type === "user") {
    const { results } = await db
      .prepare(`SELECT ${VAULT_COLUMNS}, m.role FROM memberships m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.slug`)
      .bind(ctx.actor.id)
      .all<VaultRow>();
    return { vaults: results.map(vaultView) };
  }
  if (ctx.actor.type === "api_key" && ctx.team) return { vaults: [vaultView(await loadVault(db, ctx.team.id))] };
  return { vaults: [] };
}

async function loadVault(db: D1Database, teamId: string, role?: Role): Promise<VaultRow> {
  const row = await db.prepare(`SELECT ${VAULT_COLUMNS} FROM teams t WHERE t.id = ?`).bind(teamId).first<VaultRow>();
  if (!row) throw new AppError("vault_not_found");
  return { ...row, role: role ?? null };
}

export async function getVault(ctx: VaultContext) {
  return vaultView(await loadVault(ctx.env.DB, ctx.team.id, ctx.vaultRole));
}

/** A new slug (unique: 409 slug_taken) and/or what the proxy does with unmatched requests. */
export async function updateVault(ctx: VaultContext, patch: { slug?: string | undefined; unmatchedPolicy?: UnmatchedPolicy | undefined }) {
  const db = ctx.env.DB;
  const before = await loadVault(db, ctx.team.id, ctx.vaultRole);
  const sets: string[] = [];
  const args: string[] = [];
  const changed: Record<string, string> = {};
  if (patch.slug !== undefined && patch.slug !== before.slug) sets.push("slug = ?"), args.push(patch.slug), (changed.slug = patch.slug), (changed.previousSlug = before.slug);
  if (patch.unmatchedPolicy !== undefined && patch.unmatchedPolicy !== before.unmatched_policy) sets.push("unmatched_policy = ?"), args.push(patch.unmatchedPolicy), (changed.unmatchedPolicy = patch.unmatchedPolicy);
  if (sets.length === 0) return vaultView(before);
  try {
    await db.batch([
      db.prepare(`UPDATE teams SET ${sets.join(", ")} WHERE id = ?`).bind(...args, ctx.team.id),
      auditStatement(db, { teamId: ctx.team.id, actor: ctx.actor, action: "vault.updated", targetType: "team", targetId: ctx.team.id, requestId: ctx.requestId, metadata: changed }, undefined, { onlyIfChanged: true }),
    ]);
  } catch (error) {
    if (/UNIQUE/i.test(String(error))) throw new AppError("slug_taken");
    throw error;
  }
  if (changed.unmatchedPolicy || changed.slug) await gatewayChanged(ctx.env, ctx.team.id);
  return vaultView(await loadVault(db, ctx.team.id, ctx.vaultRole));
}
