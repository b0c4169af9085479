import { auditStatement } from "../audit/audit";
import { SYSTEM_RETENTION_ACTOR } from "../context";
import type { Env } from "../env";
import { idTimeBound } from "../ids";
import { log } from "../log";
import { PLAN_NAMES, PLANS, type Plan } from "../plans";

/**
 * Retention, run by the cron (src/index.ts scheduled): tasks (with their attempts and stored
 * results) are deleted once older than their team's plan allows (plans.ts), audit entries once
 * older than AUDIT_RETENTION_DAYS (default 365). Only final tasks go, and only those untouched
 * since the cut-off, so a task that is running, or was retried since, stays.
 *
 * The work is bounded so D1, which runs one query at a time, is never held for long: each
 * statement touches at most BATCH rows, found by a range of an index (ids sort by creation time,
 * so "older than" is a primary-key range), and a run does at most MAX_BATCHES per kind; a backlog
 * is worked off over the next runs. Each batch writes, in the same D1 batch as its deletes, one
 * audit row per team it purged (`tasks.purged` / `audit.purged`, with the counts), so no purge
 * lands without its record; those rows are new, so an audit purge never deletes its own record.
 */
export const BATCH = 500;
export const MAX_BATCHES = 4;
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
export const DEFAULT_PROXY_LOG_RETENTION_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;
const FINAL = "status IN ('completed', 'failed', 'timeout', 'cancelled')";

export function auditRetentionDays(env: Pick<Env, "AUDIT_RETENTION_DAYS">): number {
  const days = Number(env.AUDIT_RETENTION_DAYS ?? DEFAULT_AUDIT_RETENTION_DAYS);
  return Number.isFinite(days) && days >= 1 ? days : DEFAULT_AUDIT_RETENTION_DAYS;
}

export function proxyLogRetentionDays(env: Pick<Env, "PROXY_LOG_RETENTION_DAYS">): number {
  const days = Number(env.PROXY_LOG_RETENTION_DAYS ?? DEFAULT_PROXY_LOG_RETENTION_DAYS);
  return Number.isFinite(days) && days >= 1 ? days : DEFAULT_PROXY_LOG_RETENTION_DAYS;
}

export interface PurgeReport {
  tasks: number;
  attempts: number;
  auditEntries: number;
  proxyLogEntries: number;
}

export async function purgeExpired(env: Env, now = Date.now()): Promise<PurgeReport> {
  const report: PurgeReport = { tasks: 0, attempts: 0, auditEntries: 0, proxyLogEntries: 0 };
  for (const plan of PLAN_NAMES) {
    const { tasks, attempts } = await purgeTasks(env, plan, now);
    report.tasks += tasks;
    report.attempts += attempts;
  }
  report.auditEntries = await purgeAudit(env, now);
  report.proxyLogEntries = await purgeProxyLog(env, now);
  if (report.tasks + report.auditEntries + report.proxyLogEntries > 0) log.info("retention_purged", { ...report });
  return report;
}

/** The plan's final tasks untouched since the cut-off, oldest first (a primary-key range). */
function expiredTasks(plan: Plan, now: number) {
  const cutoff = now - PLANS[plan].taskRetentionDays * DAY_MS;
  const where = `id < ? AND ${FINAL} AND updated_at < ? AND (SELECT plan FROM teams WHERE teams.id = tasks.team_id) = ?`;
  return { where, args: [idTimeBound("task", cutoff), new Date(cutoff).toISOString(), plan], cutoff };
}

async function purgeTasks(env: Env, plan: Plan, now: number): Promise<{ tasks: number; attempts: number }> {
  const { where, args, cutoff } = expiredTasks(plan, now);
  const total = { tasks: 0, attempts: 0 };
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    // The next BATCH of them, counted per team. The set is stable until deleted: a final task
    // untouched since the cut-off can only change by being retried, which touches it.
    const { results } = await env.DB
      .prepare(
        `WITH chunk AS (SELECT id, team_id FROM tasks WHERE ${where} ORDER BY id LIMIT ${BATCH})
         SELECT team_id, COUNT(*) AS tasks, MAX(id) AS last_id,
           (SELECT COUNT(*) FROM task_attempts a JOIN chunk c ON a.task_id = c.id WHERE c.team_id = chunk.team_id) AS attempts
         FROM chunk GROUP BY team_id`,
      )
      .bind(...args)
      .all<{ team_id: string; tasks: number; last_id: string; attempts: number }>();
    if (results.length === 0) break;
    const lastId = results.reduce((max, r) => (r.last_id > max ? r.last_id : max), "");
    const at = new Date(now).toISOString();
    const chunk = `SELECT id FROM tasks WHERE id <= ? AND ${where}`;
    await env.DB.batch([
      ...results.map((r) =>
        auditStatement(env.DB, {
          teamId: r.team_id,
          actor: SYSTEM_RETENTION_ACTOR,
          action: "tasks.purged",
          targetType: "team",
          targetId: r.team_id,
          requestId: `retention_${at}`,
          metadata: { tasks: r.tasks, attempts: r.attempts, retentionDays: PLANS[plan].taskRetentionDays, olderThan: new Date(cutoff).toISOString() },
        }),
      ),
      env.DB.prepare(`DELETE FROM task_attempts WHERE task_id IN (${chunk})`).bind(lastId, ...args),
      env.DB.prepare(`DELETE FROM tasks WHERE id IN (${chunk})`).bind(lastId, ...args),
    ]);
    const tasks = results.reduce((sum, r) => sum + r.tasks, 0);
    total.tasks += tasks;
    total.attempts += results.reduce((sum, r) => sum + r.attempts, 0);
    if (tasks < BATCH) break;
  }
  return total;
}

async function purgeAudit(env: Env, now: number): Promise<number> {
  const days = auditRetentionDays(env);
  const cutoff = now - days * DAY_MS;
  const bound = idTimeBound("aud", cutoff);
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const { results } = await env.DB
      .prepare(
        `WITH chunk AS (SELECT id, team_id FROM audit_log WHERE id < ? ORDER BY id LIMIT ${BATCH})
         SELECT team_id, COUNT(*) AS entries, MAX(id) AS last_id FROM chunk GROUP BY team_id`,
      )
      .bind(bound)
      .all<{ team_id: string; entries: number; last_id: string }>();
    if (results.length === 0) break;
    const lastId = results.reduce((max, r) => (r.last_id > max ? r.last_id : max), "");
    const at = new Date(now).toISOString();
    // Audit entries never change, so "up to the chunk's last id" is exactly the chunk.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM audit_log WHERE id <= ? AND id < ?").bind(lastId, bound),
      ...results.map((r) =>
        auditStatement(env.DB, {
          teamId: r.team_id,
          actor: SYSTEM_RETENTION_ACTOR,
          action: "audit.purged",
          targetType: "team",
          targetId: r.team_id,
          requestId: `retention_${at}`,
          metadata: { entries: r.entries, retentionDays: days, olderThan: new Date(cutoff).toISOString() },
        }),
      ),
    ]);
    const entries = results.reduce((sum, r) => sum + r.entries, 0);
    total += entries;
    if (entries < BATCH) break;
  }
  return total;
}

/**
 * The proxy's request log (metadata of proxied calls) past PROXY_LOG_RETENTION_DAYS (default
 * 30), by id range (`plog_` ids sort by creation time), BATCH rows a statement. It is a record
 * of use, not of changes: its purge is logged, not audited per team.
 */
async function purgeProxyLog(env: Env, now: number): Promise<number> {
  const bound = idTimeBound("plog", now - proxyLogRetentionDays(env) * DAY_MS);
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const result = await env.DB.prepare(`DELETE FROM proxy_log WHERE id IN (SELECT id FROM proxy_log WHERE id < ? ORDER BY id LIMIT ${BATCH})`).bind(bound).run();
    const deleted = result.meta.changes ?? 0;
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}
