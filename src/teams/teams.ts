import { auditStatement } from "../audit/audit";
import { apiKeyView, generateApiKey, insertApiKeyStatement, PlanLimitError, type ApiKeyRow } from "../auth/apikeys";
import { AGENT_SCOPES, DEFAULT_SCOPES, type Scope } from "../auth/scopes";
import type { ApiKeyRole, Context, IdentifiedContext } from "../context";
import { gateFor } from "../gate/client";
import { bytesToBase64 } from "../encoding";
import { AppError } from "../errors";
import { newId } from "../ids";
import { PLANS, type Plan } from "../plans";
import { slugCandidates } from "./slugs";

/** Teams (the tenant) and their API keys. */
export interface TeamRow {
  id: string;
  name: string;
  plan: Plan;
  key_salt: string;
  created_at: string;
  /** The vault's slug (issue 11); every team has one, read wherever the row is loaded whole. */
  slug?: string;
}

export function teamView(row: TeamRow) {
  return { id: row.id, name: row.name, plan: row.plan, ...(row.slug ? { slug: row.slug } : {}), createdAt: row.created_at };
}

/**
 * The statements that create a team (and, unless skipped, its first API key) with their audit
 * entries, for the caller to run in one batch with whatever else belongs to the change.
 */
export async function createTeamStatements(ctx: IdentifiedContext, name: string, plan: Plan, firstKey: { name: string; skip?: boolean }) {
  const db = ctx.env.DB;
  const at = new Date().toISOString();
  const slugs = await slugCandidates(db, name);
  const team: TeamRow = {
    id: newId.team(),
    name,
    plan,
    key_salt: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
    created_at: at,
    slug: slugs.chosen,
  };
  const statements = [
    // The fallback (random suffix) is taken in the same statement should a concurrent team have taken the slug since.
    db
      .prepare("INSERT INTO teams (id, name, plan, key_salt, created_at, slug) VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN EXISTS (SELECT 1 FROM teams WHERE slug = ?6) THEN ?7 ELSE ?6 END)")
      .bind(team.id, team.name, team.plan, team.key_salt, team.created_at, slugs.chosen, slugs.fallback),
    auditStatement(db, { teamId: team.id, actor: ctx.actor, action: "team.created", targetType: "team", targetId: team.id, requestId: ctx.requestId, metadata: { plan } }, at),
  ];
  if (firstKey.skip) return { statements, created: { team } };
  const apiKey = await generateApiKey(ctx.env, team.id);
  statements.push(
    insertApiKeyStatement(db, team.id, firstKey.name, apiKey, at, DEFAULT_SCOPES, null),
    auditStatement(db, { teamId: team.id, actor: ctx.actor, action: "apikey.created", targetType: "api_key", targetId: apiKey.id, requestId: ctx.requestId, metadata: { name: firstKey.name } }, at),
  );
  return {
    statements,
    created: {
      team,
      apiKey: { id: apiKey.id, name: firstKey.name, prefix: apiKey.prefix, scopes: [...DEFAULT_SCOPES], labels: [], createdAt: at, lastUsedAt: null, revokedAt: null },
      key: apiKey.key,
    },
  };
}

/** Creates a team and its first API key; the full key is returned here, once. */
export async function createTeam(ctx: IdentifiedContext, name: string, plan: Plan) {
  const { statements, created } = await createTeamStatements(ctx, name, plan, { name: "Default key" });
  await ctx.env.DB.batch(statements);
  // Seed 000 pins this body field for field: the slug is shown by the team's other views.
  const { slug: _slug, ...pinned } = created.team;
  return { team: teamView(pinned), apiKey: created.apiKey, key: created.key };
}

/** The operator changes a team's plan; the team's gate applies it from the next request. */
export async function changePlan(ctx: IdentifiedContext, teamId: string, plan: Plan) {
  const db = ctx.env.DB;
  const before = await getTeam(ctx, teamId);
  if (before.plan !== plan) {
    await db.batch([
      db.prepare("UPDATE teams SET plan = ? WHERE id = ?").bind(plan, teamId),
      auditStatement(db, { teamId, actor: ctx.actor, action: "plan.changed", targetType: "team", targetId: teamId, requestId: ctx.requestId, metadata: { from: before.plan, to: plan } }),
    ]);
    // The gate caches the plan with its keys.
    await gateFor(ctx.env, teamId).refresh();
  }
  return teamView({ ...before, plan });
}

export async function getTeam(ctx: Context, teamId: string): Promise<TeamRow> {
  const row = await ctx.env.DB.prepare("SELECT id, name, plan, key_salt, created_at, slug FROM teams WHERE id = ?").bind(teamId).first<TeamRow>();
  if (!row) throw new AppError("not_found", "Team not found");
  return row;
}

/**
 * Adds an API key within the plan's key limit. The count and the insert are one statement,
 * so two concurrent requests cannot both slip under the limit. A user's key records its creator.
 */
/**
 * The scopes a new key gets for its role: an agent key holds agent scopes only (AGENT_SCOPES by
 * default; asking for any other scope is refused, so no agent key can ever read a value).
 */
export function scopesForRole(role: ApiKeyRole, asked: readonly Scope[] | undefined): readonly Scope[] {
  if (role !== "agent") return asked ?? DEFAULT_SCOPES;
  const extra = (asked ?? []).filter((s) => !AGENT_SCOPES.includes(s));
  if (extra.length > 0) {
    throw new AppError("validation_failed", "Invalid request body", { issues: [{ path: "scopes", message: `an agent key holds only ${AGENT_SCOPES.join(", ")}` }] });
  }
  return asked ?? AGENT_SCOPES;
}

/** Unexpired agent tokens a team may hold at once, whatever its plan. */
export const MAX_ACTIVE_AGENT_TOKENS = 100;

export async function createApiKey(
  ctx: IdentifiedContext,
  teamId: string,
  name: string,
  scopes: readonly Scope[] = DEFAULT_SCOPES,
  labels: readonly string[] = [],
  options: { role?: ApiKeyRole; expiresAt?: string | null; audit?: { action: "apikey.created" | "agent_token.created" } } = {},
) {
  const role = options.role ?? "standard";
  const expiresAt = options.expiresAt ?? null;
  const db = ctx.env.DB;
  const createdBy = ctx.actor.type === "user" ? ctx.actor.id : null;
  const team = await getTeam(ctx, teamId);
  // Short-lived agent tokens are not the plan's API keys (a Free team's one key would leave no
  // room for them); they have their own bound, so minting them cannot grow without end.
  const agentToken = role === "agent" && expiresAt !== null;
  const max = agentToken ? MAX_ACTIVE_AGENT_TOKENS : PLANS[team.plan].maxApiKeys;
  const counted = agentToken ? "role = 'agent' AND expires_at IS NOT NULL" : "NOT (role = 'agent' AND expires_at IS NOT NULL)";
  const apiKey = await generateApiKey(ctx.env, teamId);
  const at = new Date().toISOString();
  const [insert] = await db.batch([
    db
      .prepare(
        `INSERT INTO api_keys (id, team_id, name, key_hash, prefix, scopes, created_by, created_at, labels, role, expires_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM api_keys WHERE team_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND ${counted}) < ?`,
      )
      .bind(apiKey.id, teamId, name, apiKey.hash, apiKey.prefix, scopes.join(" "), createdBy, at, JSON.stringify(labels), role, expiresAt, teamId, at, Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER),
    auditStatement(db, {
      teamId,
      actor: ctx.actor,
      action: options.audit?.action ?? "apikey.created",
      targetType: "api_key",
      targetId: apiKey.id,
      requestId: ctx.requestId,
      metadata: { name, scopes: scopes.join(" "), labels: labels.join(" "), role, ...(expiresAt ? { expiresAt } : {}) },
    }, at, { onlyIfChanged: true }),
  ]);
  if (!insert?.meta.changes) throw new PlanLimitError(agentToken ? "active agent tokens" : "API keys", max, team.plan);
  return { apiKey: { id: apiKey.id, name, prefix: apiKey.prefix, scopes: [...scopes], labels: [...labels], createdAt: at, lastUsedAt: null, revokedAt: null, role, expiresAt }, key: apiKey.key };
}

const KEY_COLUMNS = "id, team_id, name, prefix, scopes, labels, created_at, last_used_at, revoked_at, role, expires_at";

export async function listApiKeys(ctx: Context, teamId: string) {
  const { results } = await ctx.env.DB.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE team_id = ? ORDER BY id`).bind(teamId).all<ApiKeyRow>();
  return results.map(apiKeyView);
}

export async function getApiKey(ctx: Context, keyId: string): Promise<ApiKeyRow | null> {
  return ctx.env.DB.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).bind(keyId).first<ApiKeyRow>();
}

/**
 * Revocation is immediate: the team's gate gets the tombstone first (so no cached copy of the
 * key works from here on), then D1 records it.
 */
export async function revokeApiKey(ctx: IdentifiedContext, keyId: string) {
  const db = ctx.env.DB;
  const row = await db.prepare(`SELECT ${KEY_COLUMNS}, key_hash FROM api_keys WHERE id = ?`).bind(keyId).first<ApiKeyRow & { key_hash: string }>();
  if (!row) throw new AppError("not_found", "API key not found");
  await gateFor(ctx.env, row.team_id).revokeKey(row.key_hash);
  if (row.revoked_at) return apiKeyView(row);
  const at = new Date().toISOString();
  const [update] = await db.batch([
    db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(at, keyId),
    auditStatement(db, { teamId: row.team_id, actor: ctx.actor, action: "apikey.revoked", targetType: "api_key", targetId: keyId, requestId: ctx.requestId }, at, { onlyIfChanged: true }),
  ]);
  // A concurrent revocation won: report the time it recorded.
  if (!update?.meta.changes) return apiKeyView((await getApiKey(ctx, keyId)) ?? row);
  return apiKeyView({ ...row, revoked_at: at });
}
