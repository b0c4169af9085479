import { auditStatement, type AuditAction } from "../audit/audit";
import { SYSTEM_RETENTION_ACTOR } from "../context";
import type { Env } from "../env";
import { idTimeBound } from "../ids";
import { log } from "../log";
import { PLAN_NAMES, PLANS, type Plan } from "../plans";

/**
 * Retention, run by the cron (src/index.ts scheduled). Per the team's plan (plans.ts):
 *  - finished tasks (with their attempts and stored results) untouched for `taskRetentionDays`
 *    (a running task, or one retried since, stays);
 *  - decided proposals (approved, rejected, expired: their slots may still hold an agent's
 *    sealed value) and ended leases (revoked, or expired and recorded as such by the sweeper)
 *    that ended more than `taskRetentionDays` ago;
 *  - the proxy's request log after `requestLogRetentionDays` (PROXY_LOG_RETENTION_DAYS may
 *    shorten it, see requestLogRetentionDays below).
 * For every team: audit entries after AUDIT_RETENTION_DAYS (default 365), and OAuth connect
 * flows (oauth_states, 10 minutes each) a day after they expired.
 *
 * The work is bounded so D1, which runs one query at a time, is never held for long: each
 * statement touches at most BATCH rows, and a run does at most MAX_BATCHES per kind (and plan);
 * a backlog is worked off over the next runs. The per-plan kinds are found from the plan's teams
 * (teams_plan index) into each team's own index range, so a statement reads one index entry per
 * team of the plan plus (about) the rows it returns, never the other plan's rows that are not
 * due yet (a walk of the whole table by id would read every Pro row aged 7 to 30 days on each
 * Free run).
 * The chunk's ids are then deleted by id, in one D1 batch with one audit row per team it purged
 * (`tasks.purged`, `request_log.purged`, `proposals.purged`, `leases.purged`, `audit.purged`,
 * with the counts), so no purge lands without its record; those rows are new, so an audit purge
 * never deletes its own record. OAuth flow rows are not records of anything: their purge is
 * logged only.
 */
export const BATCH = 500;
export const MAX_BATCHES = 4;
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;
const DAY_MS = 24 * 3600 * 1000;
/** A day past expiry: a late click on a connect link still says "expired", not "unknown" (oauth/connect.ts). */
export const OAUTH_STATE_GRACE_MS = DAY_MS;
const FINAL = "('completed', 'failed', 'timeout', 'cancelled')";

export function auditRetentionDays(env: Pick<Env, "AUDIT_RETENTION_DAYS">): number {
  const days = Number(env.AUDIT_RETENTION_DAYS ?? DEFAULT_AUDIT_RETENTION_DAYS);
  return Number.isFinite(days) && days >= 1 ? days : DEFAULT_AUDIT_RETENTION_DAYS;
}

/**
 * The plan's request-log retention, or PROXY_LOG_RETENTION_DAYS when that is shorter. The
 * operator may need to keep less (a privacy policy, storage), but never more than the plan says:
 * the plan table is the one place a team's limits come from, and a longer global setting would
 * give every Free team Pro's retention and grow the database for all. Unset or invalid: the plan's.
 */
export function requestLogRetentionDays(env: Pick<Env, "PROXY_LOG_RETENTION_DAYS">, plan: Plan): number {
  const days = PLANS[plan].requestLogRetentionDays;
  const override = Number(env.PROXY_LOG_RETENTION_DAYS ?? NaN);
  return Number.isFinite(override) && override >= 1 ? Math.min(days, override) : days;
}

export interface PurgeReport {
  tasks: number;
  attempts: number;
  auditEntries: number;
  proxyLogEntries: number;
  proposals: number;
  leases: number;
  oauthStates: number;
}

export async function purgeExpired(env: Env, now = Date.now()): Promise<PurgeReport> {
  const report: PurgeReport = { tasks: 0, attempts: 0, auditEntries: 0, proxyLogEntries: 0, proposals: 0, leases: 0, oauthStates: 0 };
  for (const plan of PLAN_NAMES) {
    const tasks = await purgeByPlan(env, plan, now, expiredTasks(env, plan, now));
    report.tasks += tasks.rows;
    report.attempts += tasks.extra;
    report.proxyLogEntries += (await purgeByPlan(env, plan, now, expiredRequestLog(env, plan, now))).rows;
    report.proposals += (await purgeByPlan(env, plan, now, decidedProposals(env, plan, now))).rows;
    report.leases += (await purgeByPlan(env, plan, now, endedLeases(env, plan, now))).rows;
  }
  report.auditEntries = await purgeAudit(env, now);
  report.oauthStates = await purgeOAuthStates(env, now);
  if (Object.values(report).some((n) => n > 0)) log.info("retention_purged", { ...report });
  return report;
}

/**
 * One kind of per-plan rows: `x` is the table's alias, `due` the condition (after `x.team_id =
 * t.id AND t.plan = ?`) that makes a row due, with its arguments. `deletes` are the statements
 * that delete the chunk (a JSON array of its ids, one parameter: D1 allows 100 a statement),
 * guarded by `due` again where a row can stop being due (a task retried in the instant since it
 * was read stays; the audit counts the chunk as read).
 */
interface PerPlanKind {
  table: string;
  due: string;
  args: (string | number)[];
  /** A second count per row, summed per team into the audit metadata (a task's attempts). */
  extra?: { sql: string; name: string };
  deletes: (ids: string) => D1PreparedStatement[];
  action: AuditAction;
  metadata: Record<string, string | number>;
  /** The count's name in the audit metadata. */
  counted: string;
}

function expiredTasks(env: Env, plan: Plan, now: number): PerPlanKind {
  const days = PLANS[plan].taskRetentionDays;
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  // ids sort by creation time: a task last changed before the cut-off was created before it.
  const bound = idTimeBound("task", now - days * DAY_MS);
  const due = `x.status IN ${FINAL} AND x.id < ? AND x.updated_at < ?`;
  // The chunk's tasks that are still due (the guard of both deletes: attempts first, for the foreign key).
  const still = `SELECT x.id FROM tasks x WHERE x.id IN (SELECT value FROM json_each(?)) AND ${due}`;
  return {
    table: "tasks",
    due,
    args: [bound, cutoff],
    extra: { sql: "(SELECT COUNT(*) FROM task_attempts a WHERE a.task_id = x.id)", name: "attempts" },
    deletes: (ids) => [
      env.DB.prepare(`DELETE FROM task_attempts WHERE task_id IN (${still})`).bind(ids, bound, cutoff),
      env.DB.prepare(`DELETE FROM tasks WHERE id IN (${still})`).bind(ids, bound, cutoff),
    ],
    action: "tasks.purged",
    counted: "tasks",
    metadata: { retentionDays: days, olderThan: cutoff },
  };
}

function expiredRequestLog(env: Env, plan: Plan, now: number): PerPlanKind {
  const days = requestLogRetentionDays(env, plan);
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  // ids sort by the time of the call (proxy_log_team is (team_id, id)); rows never change.
  return {
    table: "proxy_log",
    due: "x.id < ?",
    args: [idTimeBound("plog", now - days * DAY_MS)],
    deletes: deleteByIds(env, "proxy_log"),
    action: "request_log.purged",
    counted: "entries",
    metadata: { retentionDays: days, olderThan: cutoff },
  };
}

function decidedProposals(env: Env, plan: Plan, now: number): PerPlanKind {
  const days = PLANS[plan].taskRetentionDays;
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  // Decided before the cut-off, so created before it too (the index range); a decision is final.
  return {
    table: "proposals",
    due: "x.status IN ('approved', 'rejected', 'expired') AND x.created_at < ? AND x.decided_at < ?",
    args: [cutoff, cutoff],
    deletes: deleteByIds(env, "proposals"),
    action: "proposals.purged",
    counted: "proposals",
    metadata: { retentionDays: days, olderThan: cutoff },
  };
}

function endedLeases(env: Env, plan: Plan, now: number): PerPlanKind {
  const days = PLANS[plan].taskRetentionDays;
  const cutoff = new Date(now - days * DAY_MS).toISOString();
  // Ended (revoked, or expired and its `lease.expired` recorded by the sweeper) before the
  // cut-off, so created before it (the id range). An ended lease never becomes active again.
  return {
    table: "leases",
    due: "x.id < ? AND (x.revoked_at IS NOT NULL OR x.ended_noted_at IS NOT NULL) AND COALESCE(x.revoked_at, x.expires_at) < ?",
    args: [idTimeBound("lease", now - days * DAY_MS), cutoff],
    deletes: deleteByIds(env, "leases"),
    action: "leases.purged",
    counted: "leases",
    metadata: { retentionDays: days, olderThan: cutoff },
  };
}

/** The chunk's rows by id, for kinds whose rows cannot stop being due once read. */
const deleteByIds = (env: Env, table: "proxy_log" | "proposals" | "leases") => (ids: string) => [
  env.DB.prepare(`DELETE FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`).bind(ids),
];

async function purgeByPlan(env: Env, plan: Plan, now: number, kind: PerPlanKind): Promise<{ rows: number; extra: number }> {
  const total = { rows: 0, extra: 0 };
  const at = new Date(now).toISOString();
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    // From the plan's teams into each one's index range (CROSS JOIN keeps that order).
    const { results } = await env.DB
      .prepare(
        `SELECT x.id, x.team_id${kind.extra ? `, ${kind.extra.sql} AS extra` : ""}
         FROM teams t CROSS JOIN ${kind.table} x ON x.team_id = t.id WHERE t.plan = ? AND ${kind.due} LIMIT ${BATCH}`,
      )
      .bind(plan, ...kind.args)
      .all<{ id: string; team_id: string; extra?: number }>();
    if (results.length === 0) break;
    const perTeam = new Map<string, { rows: number; extra: number }>();
    for (const r of results) {
      const team = perTeam.get(r.team_id) ?? { rows: 0, extra: 0 };
      team.rows++;
      team.extra += r.extra ?? 0;
      perTeam.set(r.team_id, team);
    }
    await env.DB.batch([
      ...kind.deletes(JSON.stringify(results.map((r) => r.id))),
      ...[...perTeam].map(([teamId, counts]) =>
        auditStatement(env.DB, {
          teamId,
          actor: SYSTEM_RETENTION_ACTOR,
          action: kind.action,
          targetType: "team",
          targetId: teamId,
          requestId: `retention_${at}`,
          metadata: { [kind.counted]: counts.rows, ...(kind.extra ? { [kind.extra.name]: counts.extra } : {}), ...kind.metadata },
        }),
      ),
    ]);
    total.rows += results.length;
    total.extra += results.reduce((sum, r) => sum + (r.extra ?? 0), 0);
    if (results.length < BATCH) break;
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

/** Connect flows a day past their expiry, used or not (the oauth_states_expires range). */
async function purgeOAuthStates(env: Env, now: number): Promise<number> {
  const before = new Date(now - OAUTH_STATE_GRACE_MS).toISOString();
  let total = 0;
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    const result = await env.DB
      .prepare(`DELETE FROM oauth_states WHERE state_hash IN (SELECT state_hash FROM oauth_states WHERE expires_at < ? LIMIT ${BATCH})`)
      .bind(before)
      .run();
    const deleted = result.meta.changes ?? 0;
    total += deleted;
    if (deleted < BATCH) break;
  }
  return total;
}
