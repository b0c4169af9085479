import type { ApiKeyContext, TeamContext } from "../context";
import { sha256Hex } from "../encoding";
import type { Env } from "../env";
import { AppError } from "../errors";
import { listPage, type PageQuery } from "../http/schemas";
import { idTimeBound, newId } from "../ids";
import { log } from "../log";
import { PLANS } from "../plans";
import { delayFor, onRetryRequest } from "./decide";
import { attemptView, isFinal, taskSummary, taskView, type AttemptRow, type RetryBackoff, type TaskRow, type TaskStatus } from "./model";
import { effectivePollConfig, type PollConfig } from "./providers";
import { executionHint, malformedReferences, referencesIn } from "./references";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import { cancel, queueExecution, releaseIdempotencyKey, reopen } from "./transitions";
import { parseAllowedHosts, urlAllowedFor } from "../vault/hosts";
import { isExpired, NOT_EXPIRED, USABLE_BY_KEY } from "../vault/store";

export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;

export interface NewTask {
  targetUrl: string;
  method: string;
  headers: Record<string, string>;
  body?: string | undefined;
  provider?: string | undefined;
  pollConfig?: Partial<PollConfig> | undefined;
  timeout: number;
  maxRetries: number;
  retryBackoff: RetryBackoff;
  delay?: number | undefined;
  delayUntil?: string | undefined;
  onCompleteUrl?: string | undefined;
}

function checkUrl(env: Env, field: string, url: string) {
  const verdict = checkOutboundUrl(url, allowLoopbackTargets(env));
  if (!verdict.ok) throw new AppError("url_not_allowed", `${field} ${verdict.reason}`, { field });
}

/**
 * Validates and stores a task, then enqueues it. Every tok_ reference must exist, be active
 * and belong to the caller's team; unknown, revoked and other teams' references get the same
 * answer, so ids cannot be probed.
 */
export async function createTask(ctx: ApiKeyContext, input: NewTask, idempotencyKey: string | undefined) {
  const { env, team } = ctx;
  const plan = PLANS[team.plan];
  if (input.timeout > plan.maxWaitSeconds) {
    throw new AppError("max_wait_exceeded", `timeout exceeds the ${team.plan} plan's max wait time of ${plan.maxWaitSeconds} seconds`, { maxWaitSeconds: plan.maxWaitSeconds });
  }
  checkUrl(env, "targetUrl", input.targetUrl);
  if (input.onCompleteUrl) checkUrl(env, "onCompleteUrl", input.onCompleteUrl);
  const pollConfig = effectivePollConfig(input.provider, input.pollConfig);

  // Only a request with an Idempotency-Key is compared with an earlier one.
  const requestHash = idempotencyKey ? await sha256Hex(JSON.stringify(canonical(input))) : "";
  if (idempotencyKey) {
    const existing = await findIdempotent(env.DB, team.id, idempotencyKey);
    if (existing) return replay(existing, requestHash);
  }

  const malformed = malformedReferences(input.headers);
  if (malformed.length > 0) {
    throw new AppError("invalid_token_reference", `Malformed token reference: ${malformed.join(", ")} (expected tok_ followed by 26 lowercase characters)`, { malformedReferences: malformed });
  }
  const refs = referencesIn(input.headers);
  const now = Date.now();
  const runAt = input.delayUntil ? Date.parse(input.delayUntil) : now + (input.delay ?? 0) * 1000;
  const status: TaskStatus = runAt > now + 500 ? "delayed" : "pending";
  const at = new Date(now).toISOString();
  const row: TaskRow = {
    id: newId.task(),
    team_id: team.id,
    api_key_id: ctx.actor.id,
    status,
    method: input.method,
    target_url: input.targetUrl,
    headers: JSON.stringify(input.headers),
    body: input.method === "GET" ? null : input.body ?? null,
    provider: input.provider ?? null,
    poll_config: pollConfig ? JSON.stringify(pollConfig) : null,
    timeout_s: input.timeout,
    max_retries: input.maxRetries,
    retry_backoff: input.retryBackoff,
    on_complete_url: input.onCompleteUrl ?? null,
    idempotency_key: idempotencyKey ?? null,
    request_hash: idempotencyKey ? requestHash : null,
    attempts: 0,
    run_at: new Date(Math.max(runAt, now)).toISOString(),
    lease_until: null,
    error: null,
    result: null,
    poll_state: null,
    webhook_status: null,
    webhook_attempts: 0,
    webhook_error: null,
    created_at: at,
    updated_at: at,
    started_at: null,
    completed_at: null,
    runs: 1,
    token_versions: null,
  };
  try {
    // The references are checked in the insert itself: one D1 round trip on the happy path
    // (references bound to hosts take a second one, which checks the target against them).
    let inserted = await insertTask(env.DB, row, refs, []);
    if (!inserted) {
      const approved = await checkReferences(env.DB, row, refs);
      inserted = await insertTask(env.DB, row, refs, approved);
      if (!inserted) throw new AppError("token_unavailable", `Unknown or revoked token reference: ${refs.join(", ")}`, { invalidReferences: refs });
    }
  } catch (error) {
    // A concurrent request with the same Idempotency-Key won the insert.
    if (idempotencyKey && /UNIQUE/i.test(String(error))) {
      const existing = await findIdempotent(env.DB, team.id, idempotencyKey);
      if (existing) return replay(existing, requestHash);
    }
    throw error;
  }
  try {
    await queueExecution(env, row, delayFor(row.run_at), executionHint(row, team.plan));
  } catch (error) {
    // Without its message the task would never run: undo it and let the caller retry.
    await env.DB.prepare("DELETE FROM tasks WHERE id = ?").bind(row.id).run();
    throw new AppError("queue_unavailable", undefined, { retryable: true }, { cause: error, internal: `queue send failed for ${row.id}` });
  }
  return { task: taskView(row), replayed: false };
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  }
  return value;
}

async function findIdempotent(db: D1Database, teamId: string, key: string): Promise<TaskRow | null> {
  const row = await db.prepare("SELECT * FROM tasks WHERE team_id = ? AND idempotency_key = ?").bind(teamId, key).first<TaskRow>();
  if (row && Date.now() - Date.parse(row.created_at) > IDEMPOTENCY_WINDOW_MS) {
    // Past the window the key is free again.
    await releaseIdempotencyKey(db, row.id, key);
    return null;
  }
  return row;
}

function replay(existing: TaskRow, requestHash: string) {
  if (existing.request_hash !== requestHash) {
    throw new AppError("idempotency_key_reused", undefined, { taskId: existing.id });
  }
  return { task: taskView(existing), replayed: true };
}

/**
 * Inserts the task only if every reference is an available credential of its team that the
 * key may use (unexpired; a named secret only if assigned to the key) and, when bound to hosts,
 * is in `hostApproved` (checked against the target by checkReferences); false otherwise. The
 * version of each reference is fixed in the same statement, so every step of the task uses the
 * version that was current when it was created.
 */
async function insertTask(db: D1Database, row: TaskRow, refs: string[], hostApproved: string[]): Promise<boolean> {
  const columns = Object.keys(row).filter((c) => c !== "token_versions");
  const values = columns.map((c) => row[c as keyof TaskRow]);
  if (refs.length === 0) {
    const result = await db.prepare(`INSERT INTO tasks (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).bind(...values).run();
    return result.meta.changes > 0;
  }
  const list = refs.map(() => "?").join(", ");
  const approved = hostApproved.length > 0 ? ` OR t.id IN (${hostApproved.map(() => "?").join(", ")})` : "";
  const result = await db
    .prepare(
      `INSERT INTO tasks (${columns.join(", ")}, token_versions)
       SELECT ${columns.map(() => "?").join(", ")}, (SELECT json_group_object(id, current_version) FROM tokens WHERE team_id = ? AND id IN (${list}))
       WHERE (SELECT COUNT(*) FROM tokens t WHERE t.team_id = ? AND t.revoked_at IS NULL AND ${NOT_EXPIRED} AND ${USABLE_BY_KEY}
              AND (t.allowed_hosts IS NULL${approved}) AND t.id IN (${list})) = ${refs.length}`,
    )
    .bind(...values, row.team_id, ...refs, row.team_id, row.created_at, row.api_key_id, ...hostApproved, ...refs)
    .run();
  return result.meta.changes > 0;
}

/**
 * Why the guarded insert refused, in the order a caller can act on: unknown, revoked, other
 * teams' and unassigned references alike (ids cannot be probed); then expired ones; then those
 * bound to hosts the target is not among. Returns the host-bound references the target may use.
 */
async function checkReferences(db: D1Database, row: TaskRow, refs: string[]): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT t.id, t.expires_at, t.allowed_hosts FROM tokens t WHERE t.team_id = ? AND t.revoked_at IS NULL AND ${USABLE_BY_KEY} AND t.id IN (${refs.map(() => "?").join(", ")})`)
    .bind(row.team_id, row.api_key_id, ...refs)
    .all<{ id: string; expires_at: string | null; allowed_hosts: string | null }>();
  const found = new Map(results.map((r) => [r.id, r]));
  const bad = refs.filter((r) => !found.has(r));
  if (bad.length > 0) throw new AppError("token_unavailable", `Unknown or revoked token reference: ${bad.join(", ")}`, { invalidReferences: bad });
  const expired = results.filter((r) => isExpired(r.expires_at)).map((r) => r.id);
  if (expired.length > 0) throw new AppError("secret_expired", `Expired credential reference: ${expired.join(", ")}`, { expiredReferences: expired });
  const bound = results.filter((r) => r.allowed_hosts !== null);
  const refused = bound.filter((r) => !urlAllowedFor(row.target_url, parseAllowedHosts(r.allowed_hosts))).map((r) => r.id);
  if (refused.length > 0) {
    throw new AppError("credential_host_not_allowed", `targetUrl is not among the allowed hosts of ${refused.join(", ")}; no request was made`, { field: "targetUrl", tokenIds: refused });
  }
  return bound.map((r) => r.id);
}

/** Unknown, revoked and other teams' references alike (ids cannot be probed). */
async function unavailableReferences(db: D1Database, teamId: string, refs: string[]): Promise<string[]> {
  const { results } = await db
    .prepare(`SELECT id FROM tokens WHERE team_id = ? AND revoked_at IS NULL AND id IN (${refs.map(() => "?").join(", ")})`)
    .bind(teamId, ...refs)
    .all<{ id: string }>();
  const active = new Set(results.map((r) => r.id));
  return refs.filter((r) => !active.has(r));
}

export async function loadTask(ctx: TeamContext, id: string): Promise<TaskRow> {
  const row = await ctx.env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(id).first<TaskRow>();
  if (!row) throw new AppError("not_found", "Task not found");
  if (row.team_id !== ctx.team.id) throw new AppError("access_denied");
  return row;
}

/** Long-poll: re-reads the task until it is final or `waitSeconds` pass. */
export async function waitForTask(ctx: TeamContext, id: string, waitSeconds: number): Promise<TaskRow> {
  const deadline = Date.now() + waitSeconds * 1000;
  let row = await loadTask(ctx, id);
  // Re-read quickly at first, then at most once a second.
  for (let pause = 100; !isFinal(row.status) && Date.now() < deadline; pause = Math.min(1000, pause * 2)) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
    row = await loadTask(ctx, id);
  }
  return row;
}

/** The task with its attempts (every run, oldest first), read in one batch. */
export async function loadTaskWithHistory(ctx: TeamContext, id: string) {
  const [task, attempts] = await ctx.env.DB.batch<TaskRow | AttemptRow>([
    ctx.env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(id),
    ctx.env.DB.prepare("SELECT a.* FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.task_id = ? AND t.team_id = ? ORDER BY a.run, a.attempt").bind(id, ctx.team.id),
  ]);
  const row = task?.results[0] as TaskRow | undefined;
  if (!row) throw new AppError("not_found", "Task not found");
  if (row.team_id !== ctx.team.id) throw new AppError("access_denied");
  return detailView(row, (attempts?.results ?? []) as AttemptRow[]);
}

/** GET /v1/tasks/:id: the task view plus its runs and every attempt (`attempts` stays the current run's count). */
function detailView(row: TaskRow, attempts: AttemptRow[]) {
  return { ...taskView(row), runs: row.runs, attemptHistory: attempts.map(attemptView) };
}

/** Long-poll variant of loadTaskWithHistory: the history is read once, at the end of the wait. */
export async function waitForTaskWithHistory(ctx: TeamContext, id: string, waitSeconds: number) {
  await waitForTask(ctx, id, waitSeconds);
  return loadTaskWithHistory(ctx, id);
}

export interface TaskFilters {
  status?: TaskStatus | undefined;
  provider?: string | undefined;
  /** ISO date-times: created at or after, and strictly before. */
  createdAfter?: string | undefined;
  createdBefore?: string | undefined;
}

/**
 * The team's tasks, newest first, filtered. The time range is bounded on the id too (ids sort
 * by creation time; a second of slack either side for clocks), so every filter is a range of
 * an index: (team_id, id), (team_id, status, id) or (team_id, provider, id).
 */
export async function listTasks(ctx: TeamContext, page: PageQuery & TaskFilters) {
  const where: string[] = [];
  const args: string[] = [];
  if (page.createdAfter) {
    const after = Date.parse(page.createdAfter);
    where.push("id >= ?", "created_at >= ?");
    args.push(idTimeBound("task", after - 1000), new Date(after).toISOString());
  }
  if (page.createdBefore) {
    const before = Date.parse(page.createdBefore);
    where.push("id < ?", "created_at < ?");
    args.push(idTimeBound("task", before + 1000), new Date(before).toISOString());
  }
  const { items, pagination } = await listPage<TaskRow>(
    ctx.env.DB,
    { table: "tasks", filters: { team_id: ctx.team.id, status: page.status, provider: page.provider }, ...(where.length > 0 ? { where: where.join(" AND "), whereArgs: args } : {}) },
    page,
  );
  return { tasks: items.map(taskSummary), pagination };
}

/**
 * POST /v1/tasks/:id/retry: runs a failed (dead-lettered included) or timed-out task again as
 * a new run of the same task, its attempt history kept. Everything is checked again as at
 * creation: the URL policy (target and webhook) and that every tok_ reference is still an
 * active token of the team (in the guarded update itself).
 */
export async function retryTask(ctx: TeamContext, id: string) {
  const { env } = ctx;
  const row = await loadTask(ctx, id);
  const decision = onRetryRequest(row);
  if (decision.step === "refuse") throw notRetryable(decision.status);
  checkUrl(env, "targetUrl", row.target_url);
  if (row.on_complete_url) checkUrl(env, "onCompleteUrl", row.on_complete_url);
  const refs = referencesIn(JSON.parse(row.headers) as Record<string, string>);
  const reopened = await reopen(env.DB, row, refs, { actor: ctx.actor, requestId: ctx.requestId, metadata: { fromStatus: row.status, run: row.runs + 1 } });
  if (!reopened) {
    // Another request moved it first, or a reference is gone: say which.
    const now = await loadTask(ctx, id);
    if (onRetryRequest(now).step === "refuse" || refs.length === 0) throw notRetryable(now.status);
    const bad = await unavailableReferences(env.DB, ctx.team.id, refs);
    throw new AppError("token_unavailable", `Unknown or revoked token reference: ${bad.join(", ")}`, { invalidReferences: bad });
  }
  try {
    await queueExecution(env, reopened, 0, ctx.team.plan ? executionHint(reopened, ctx.team.plan) : undefined);
  } catch (error) {
    // The task is stored as pending and due: the sweeper re-sends its message within minutes.
    log.warn("task_retry_queue_failed", { taskId: id, errorName: error instanceof Error ? error.name : typeof error });
  }
  return loadTaskWithHistory(ctx, id);
}

const notRetryable = (status: TaskStatus) =>
  new AppError("task_not_retryable", `Task cannot be retried in status ${status}: only failed or timed-out tasks can`, { status });

/**
 * Only a task that has not started can be cancelled (transitions.ts has the rule). The guarded
 * update goes first (it checks the team too); only a refusal reads the task, to say why.
 */
export async function cancelTask(ctx: TeamContext, id: string) {
  const updated = await cancel(ctx.env.DB, ctx.team.id, id);
  if (!updated) {
    const now = await loadTask(ctx, id);
    throw new AppError("task_not_cancellable", `Task cannot be cancelled in status ${now.status}`, { status: now.status });
  }
  return taskView(updated);
}
