import { auditStatement } from "../audit/audit";
import type { TeamContext, VaultContext } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { allowLoopbackTargets } from "../outbound/url-policy";
import { gatewayChanged } from "./cache";
import { parseHostPattern } from "./host-pattern";
import { referencedKeys, type Service, type ServiceAuth } from "./types";

/**
 * A vault's services (issue 11 section 3): which credential goes to which host. Stored in the
 * `services` table in declaration order; written only after the host pattern passes the
 * outbound policy and every KEY the auth names exists. The proxy reads them through its cache
 * (cache.ts, service-rules.ts).
 */
interface ServiceRow {
  name: string;
  host: string;
  enabled: number;
  auth: string;
  position: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS = "name, host, enabled, auth, position, created_at, updated_at";

export function serviceView(row: ServiceRow) {
  return { name: row.name, host: row.host, enabled: row.enabled === 1, auth: JSON.parse(row.auth) as ServiceAuth, createdAt: row.created_at, updatedAt: row.updated_at };
}

export async function listServices(ctx: VaultContext) {
  const { results } = await ctx.env.DB.prepare(`SELECT ${COLUMNS} FROM services WHERE team_id = ? ORDER BY position, name`).bind(ctx.team.id).all<ServiceRow>();
  return { services: results.map(serviceView) };
}

/** Host pattern issues of `services` (the services API's rule), as validation issues. */
export function hostPatternIssues(env: Env, services: readonly Service[], field: (i: number) => string): { path: string; message: string }[] {
  const allowLoopback = allowLoopbackTargets(env);
  return services.flatMap((s, i) => {
    const verdict = parseHostPattern(s.host, allowLoopback);
    return verdict.ok ? [] : [{ path: `${field(i)}host`, message: `host ${verdict.reason}` }];
  });
}

/**
 * Checks services before any is written: host patterns (400 validation_failed naming the field),
 * then the KEYs their auth names (400 credential_not_found listing the missing ones).
 */
async function checkServices(ctx: VaultContext, services: readonly Service[], field: (i: number) => string): Promise<void> {
  const issues = hostPatternIssues(ctx.env, services, field);
  if (issues.length > 0) throw new AppError("validation_failed", "Invalid request body", { issues });
  const keys = [...new Set(services.flatMap((s) => referencedKeys(s.auth)))];
  if (keys.length === 0) return;
  const { results } = await ctx.env.DB
    .prepare(`SELECT name FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND revoked_at IS NULL AND name IN (${keys.map(() => "?").join(", ")})`)
    .bind(ctx.team.id, ...keys)
    .all<{ name: string }>();
  const found = new Set(results.map((r) => r.name));
  const missing = keys.filter((k) => !found.has(k));
  if (missing.length > 0) throw new AppError("credential_not_found", `No credential named ${missing.join(", ")} in this vault: set it first`, { keys: missing });
}

/**
 * The statements that create or replace one service by name (a new one goes last in
 * declaration order), audited; for a caller's batch. The caller has checked the service.
 */
export function upsertServiceStatements(ctx: TeamContext, service: Service, existed: boolean, at: string): D1PreparedStatement[] {
  const { env, team } = ctx;
  return [
    env.DB
      .prepare(
        `INSERT INTO services (team_id, name, host, enabled, auth, position, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(position) + 1, 0) FROM services WHERE team_id = ?1), ?6, ?6)
         ON CONFLICT (team_id, name) DO UPDATE SET host = excluded.host, enabled = excluded.enabled, auth = excluded.auth, updated_at = excluded.updated_at`,
      )
      .bind(team.id, service.name, service.host, service.enabled ? 1 : 0, JSON.stringify(service.auth), at),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: existed ? "service.updated" : "service.created",
      targetType: "service",
      targetId: service.name,
      requestId: ctx.requestId,
      metadata: { name: service.name, host: service.host, authType: service.auth.type, enabled: service.enabled },
    }, at),
  ];
}

async function getRow(ctx: VaultContext, name: string): Promise<ServiceRow | null> {
  return ctx.env.DB.prepare(`SELECT ${COLUMNS} FROM services WHERE team_id = ? AND name = ?`).bind(ctx.team.id, name).first<ServiceRow>();
}

/** Creates or replaces one service by name (a new one goes last in declaration order). */
export async function upsertService(ctx: VaultContext, service: Service) {
  const { env, team } = ctx;
  await checkServices(ctx, [service], () => "");
  const before = await getRow(ctx, service.name);
  const at = new Date().toISOString();
  await env.DB.batch(upsertServiceStatements(ctx, service, before !== null, at));
  await gatewayChanged(env, team.id);
  return { service: serviceView((await getRow(ctx, service.name)) as ServiceRow) };
}

/** Replaces every service of the vault with `services`, in their order, in one batch. */
export async function replaceServices(ctx: VaultContext, services: readonly Service[]) {
  const { env, team } = ctx;
  const seen = new Set<string>();
  const dupes = services.map((s, i) => (seen.has(s.name) ? i : (seen.add(s.name), -1))).filter((i) => i >= 0);
  if (dupes.length > 0) throw new AppError("validation_failed", "Invalid request body", { issues: dupes.map((i) => ({ path: `services.${i}.name`, message: "service names must be unique" })) });
  await checkServices(ctx, services, (i) => `services.${i}.`);
  const { results: old } = await env.DB.prepare(`SELECT ${COLUMNS} FROM services WHERE team_id = ?`).bind(team.id).all<ServiceRow>();
  const before = new Map(old.map((r) => [r.name, r]));
  const at = new Date().toISOString();
  const audit = (action: "service.created" | "service.updated" | "service.deleted", name: string, extra: Record<string, string | boolean> = {}) =>
    auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action, targetType: "service", targetId: name, requestId: ctx.requestId, metadata: { name, ...extra } }, at);
  await env.DB.batch([
    env.DB.prepare("DELETE FROM services WHERE team_id = ?").bind(team.id),
    ...services.map((s, position) =>
      env.DB
        .prepare("INSERT INTO services (team_id, name, host, enabled, auth, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(team.id, s.name, s.host, s.enabled ? 1 : 0, JSON.stringify(s.auth), position, before.get(s.name)?.created_at ?? at, at),
    ),
    ...old.filter((r) => !seen.has(r.name)).map((r) => audit("service.deleted", r.name)),
    ...services.map((s) => audit(before.has(s.name) ? "service.updated" : "service.created", s.name, { host: s.host, authType: s.auth.type, enabled: s.enabled })),
  ]);
  await gatewayChanged(env, team.id);
  return listServices(ctx);
}

export async function deleteService(ctx: VaultContext, name: string) {
  const { env, team } = ctx;
  const row = await getRow(ctx, name);
  if (!row) throw new AppError("not_found", "Service not found");
  const [deleted] = await env.DB.batch([
    env.DB.prepare("DELETE FROM services WHERE team_id = ? AND name = ?").bind(team.id, name),
    auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "service.deleted", targetType: "service", targetId: name, requestId: ctx.requestId, metadata: { name } }, undefined, { onlyIfChanged: true }),
  ]);
  if (!deleted?.meta.changes) throw new AppError("not_found", "Service not found");
  await gatewayChanged(env, team.id);
  return { service: serviceView(row) };
}
