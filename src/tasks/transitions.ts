import { auditStatement, type AuditEntry } from "../audit/audit";
import type { Env } from "../env";
import { log } from "../log";
import { ack, retry, type Delivery, type ExecutionHint, type QueueMessage } from "../queue/messages";
import { EARLY_TOLERANCE_MS, type AttemptEnd, type Finish, type PollAgain, type Retry, type StartPolling, type Step, type WebhookStep } from "./decide";
import { executionHint } from "./references";
import type { Plan } from "../plans";
import type { TaskRow, TaskStatus } from "./model";

/**
 * The one place that writes task state: every status change is an UPDATE guarded by the
 * statuses it may leave from (so a redelivered message, a concurrent consumer or a cancel
 * racing a claim changes nothing twice), together with the queue message that carries the
 * task on. Steps come from decide.ts; this module only applies them.
 *
 * Each attempt of the main call has a row in task_attempts: opened in the claim's batch and
 * closed in the batch of the transition that ends the attempt (no extra round trip). The one
 * transition a person asks for, reopen (POST /v1/tasks/:id/retry), writes its audit row in
 * the same batch as its UPDATE.
 */

/** The transition table: the statuses each transition leaves from, and where it goes. */
export const TRANSITIONS = {
  /** Take a due task for an attempt (also a processing task whose lease ran out: its consumer died). */
  claim: { from: ["pending", "delayed"], to: ["processing"] },
  /** Give a task back after an unexpected error, for a redelivery or the sweeper. */
  release: { from: ["processing"], to: ["pending"] },
  /** The attempt failed; another one is scheduled. */
  retry: { from: ["processing"], to: ["pending"] },
  startPolling: { from: ["processing"], to: ["polling"] },
  pollAgain: { from: ["polling"], to: ["polling"] },
  finish: { from: ["pending", "delayed", "processing", "polling"], to: ["completed", "failed", "timeout"] },
  /** Only a task that has not started can be cancelled; the consumer then never calls its target. */
  cancel: { from: ["pending", "delayed"], to: ["cancelled"] },
  /** POST /v1/tasks/:id/retry: the same task runs again (a new run, its attempts counted afresh). */
  reopen: { from: ["failed", "timeout"], to: ["pending"] },
} as const satisfies Record<string, { from: readonly TaskStatus[]; to: readonly TaskStatus[] }>;

/** `status IN (...)` of a transition: literals from the table above, never input. */
const from = (transition: keyof typeof TRANSITIONS) => `status IN (${TRANSITIONS[transition].from.map((s) => `'${s}'`).join(", ")})`;
/** `status = '...'` of a transition with one target. */
const to = (transition: Exclude<keyof typeof TRANSITIONS, "finish">) => `status = '${TRANSITIONS[transition].to[0]}'`;

/** The attempt a step ends: which one, when it started (for its duration), and what it came to. */
export type EndedAttempt = AttemptEnd & { run: number; attempt: number; startedAt?: Date };

/**
 * Closes the attempt's row, only if the statement before it in the same batch (the guarded
 * transition) changed the task: a transition that lost a race leaves the history alone.
 */
function closeAttempt(env: Env, task: Pick<TaskRow, "id">, ended: EndedAttempt | undefined, at: string): D1PreparedStatement[] {
  if (!ended) return [];
  const durationMs = ended.startedAt ? Math.max(0, Date.parse(at) - ended.startedAt.getTime()) : null;
  return [
    env.DB
      .prepare(
        `UPDATE task_attempts SET finished_at = ?, duration_ms = ?, status_code = ?, error = ?
         WHERE task_id = ? AND run = ? AND attempt = ? AND finished_at IS NULL AND changes() > 0`,
      )
      .bind(at, durationMs, ended.statusCode, ended.error, task.id, ended.run, ended.attempt),
  ];
}

/** Runs a transition's UPDATE with the statements that go with it, in one batch (one round trip). */
async function write(env: Env, update: D1PreparedStatement, rest: D1PreparedStatement[]): Promise<void> {
  if (rest.length === 0) await update.run();
  else await env.DB.batch([update, ...rest]);
}

/**
 * Applies a decided step to the task and says what becomes of the message that led to it;
 * `ended`: the attempt this step ends, closed in the same batch.
 */
export async function apply(env: Env, task: TaskRow & { plan?: Plan }, step: Step, ended?: EndedAttempt): Promise<Delivery> {
  switch (step.step) {
    case "nothing":
      return ack();
    case "wait":
      return retry(step.afterSeconds);
    case "defer":
      // Early: a delay longer than the queue allows, or a duplicate of a scheduled retry.
      await queueExecution(env, task, step.afterSeconds, task.plan ? executionHint(task, task.plan) : undefined);
      return ack();
    case "finish":
      await finish(env, task, step, ended);
      return ack();
    case "retry":
      await scheduleRetry(env, task, step, ended);
      return retry(step.afterSeconds);
    case "startPolling":
      await startPolling(env, task, step, ended);
      return ack();
    case "pollAgain":
      await pollAgain(env, task, step);
      return ack();
  }
}

/** Queues the task's (next) execution; used at creation and for early deliveries. */
export async function queueExecution(env: Env, task: Pick<TaskRow, "id" | "team_id">, delaySeconds: number, hint?: ExecutionHint): Promise<void> {
  await env.TASKS.send({ type: "task.execute", taskId: task.id, teamId: task.team_id, ...(hint ? { run: hint } : {}) }, { delaySeconds });
}

/**
 * Seconds an attempt may hold its claim (and its team's call slot): the call's timeout plus a
 * margin for resolving references and writing the outcome. A consumer that dies mid-attempt
 * lets both run out; the sweeper then sends the task on (the recovery window after a crash).
 */
export const LEASE_MARGIN_SECONDS = 30;
export const leaseSeconds = (task: Pick<TaskRow, "timeout_s">): number => task.timeout_s + LEASE_MARGIN_SECONDS;

/**
 * Sends the task's execution again after `delaySeconds` because its team has no call slot free,
 * and touches it so the sweeper knows it is alive (it is not stranded, only waiting its turn).
 */
export async function deferBusy(env: Env, task: Pick<TaskRow, "id" | "team_id">, delaySeconds: number, hint?: ExecutionHint): Promise<void> {
  await queueExecution(env, task, delaySeconds, hint);
  await env.DB.prepare("UPDATE tasks SET updated_at = ? WHERE id = ? AND status IN ('pending', 'delayed')").bind(new Date().toISOString(), task.id).run();
}

/** "This claim took the task": an SQL condition for statements that ride in the claim's batch. */
export interface ClaimGuard {
  sql: string;
  args: string[];
}

/**
 * Claims the task for one attempt and opens the attempt's row, in one batch; the claimed row
 * (status, attempt and run already moved), or null if the task was not claimable: not pending,
 * delayed or abandoned (a lease that ran out), not due yet, or its team already has `limit`
 * calls in flight. A row left open by a consumer that stopped is closed as abandoned.
 *
 * The claim is the call slot: a task holds one of its team's slots (the plan's parallel calls)
 * exactly while it is `processing` under a live lease, so the count in the claim's own WHERE is
 * exact (D1 runs one statement at a time), ends with the outcome's write, and expires with the
 * lease if a consumer dies. `alongside` adds statements to the same batch (the references'
 * resolution and its audit rows: one round trip for all), given the condition that holds only
 * if this claim took the task; their results come back in order.
 */
export async function claim(
  env: Env,
  task: Pick<TaskRow, "id" | "timeout_s">,
  now: Date,
  slots: { teamId: string; limit: number },
  alongside: (claimed: ClaimGuard) => D1PreparedStatement[] = () => [],
): Promise<{ row: TaskRow; alongside: D1Result[] } | null> {
  const at = now.toISOString();
  const lease = new Date(now.getTime() + leaseSeconds(task) * 1000).toISOString();
  const due = new Date(now.getTime() + EARLY_TOLERANCE_MS).toISOString();
  // The later statements act only if this claim took the task (it holds exactly this lease).
  const claimedByUs = "EXISTS (SELECT 1 FROM tasks WHERE id = ? AND status = 'processing' AND lease_until = ?)";
  const [claimed, ...rest] = await env.DB.batch<TaskRow>([
    env.DB
      .prepare(
        `UPDATE tasks SET ${to("claim")}, attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?, lease_until = ?
         WHERE id = ? AND ((${from("claim")} AND run_at <= ?) OR (status = 'processing' AND lease_until < ?))
           AND (SELECT COUNT(*) FROM tasks WHERE team_id = ? AND status = 'processing' AND lease_until >= ?) < ?
         RETURNING *`,
      )
      .bind(at, at, lease, task.id, due, at, slots.teamId, at, slots.limit),
    env.DB
      .prepare(`UPDATE task_attempts SET finished_at = ?, error = ? WHERE task_id = ? AND finished_at IS NULL AND ${claimedByUs}`)
      .bind(at, "Attempt abandoned: its consumer stopped before it ended", task.id, task.id, lease),
    env.DB
      .prepare(`INSERT OR IGNORE INTO task_attempts (task_id, run, attempt, started_at) SELECT id, runs, attempts, ? FROM tasks WHERE id = ? AND ${claimedByUs}`)
      .bind(at, task.id, task.id, lease),
    ...alongside({ sql: claimedByUs, args: [task.id, lease] }),
  ]);
  const row = claimed?.results[0];
  return row ? { row, alongside: rest.slice(2) } : null;
}

/** The team's outbound calls in flight: its tasks claimed under a live lease (see claim). */
export async function callsInFlight(db: D1Database, teamId: string, now = new Date()): Promise<number> {
  const row = await db
    .prepare("SELECT COUNT(*) AS n FROM tasks WHERE team_id = ? AND status = 'processing' AND lease_until >= ?")
    .bind(teamId, now.toISOString())
    .first<{ n: number }>();
  return row?.n ?? 0;
}

export async function release(env: Env, taskId: string): Promise<void> {
  await env.DB
    .prepare(`UPDATE tasks SET ${to("release")}, lease_until = NULL, updated_at = ? WHERE id = ? AND ${from("release")}`)
    .bind(new Date().toISOString(), taskId)
    .run();
}

async function scheduleRetry(env: Env, task: TaskRow, step: Retry, ended: EndedAttempt | undefined): Promise<void> {
  const at = new Date().toISOString();
  // run_at holds the retry back even if a duplicate message arrives early.
  const update = env.DB
    .prepare(`UPDATE tasks SET ${to("retry")}, error = ?, result = ?, run_at = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND ${from("retry")}`)
    .bind(step.error, step.result ? JSON.stringify(step.result) : null, new Date(Date.now() + step.afterSeconds * 1000).toISOString(), at, task.id);
  await write(env, update, closeAttempt(env, task, ended, at));
}

async function startPolling(env: Env, task: TaskRow, step: StartPolling, ended: EndedAttempt | undefined): Promise<void> {
  // The first poll is queued before the state moves: a failed send leaves the step to be retried.
  await queuePoll(env, task, step.state.polls, step.afterSeconds);
  const at = new Date().toISOString();
  const update = env.DB
    .prepare(`UPDATE tasks SET ${to("startPolling")}, poll_state = ?, result = ?, error = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND ${from("startPolling")}`)
    .bind(JSON.stringify(step.state), JSON.stringify(step.result), at, task.id);
  await write(env, update, closeAttempt(env, task, ended, at));
}

async function pollAgain(env: Env, task: TaskRow, step: PollAgain): Promise<void> {
  // Queued first: if the state write then loses a race, the extra message finds a stale poll number and is dropped.
  await queuePoll(env, task, step.state.polls, step.afterSeconds);
  await env.DB
    .prepare(`UPDATE tasks SET poll_state = ?, updated_at = ? WHERE id = ? AND ${from("pollAgain")} AND poll_state = ?`)
    .bind(JSON.stringify(step.state), new Date().toISOString(), task.id, task.poll_state)
    .run();
}

async function queuePoll(env: Env, task: TaskRow, poll: number, delaySeconds: number): Promise<void> {
  await env.TASKS.send({ type: "task.poll", taskId: task.id, teamId: task.team_id, poll }, { delaySeconds });
}

/**
 * Moves a task to a final state (once) and queues its completion webhook. The webhook message
 * is queued first, so a failed send leaves the task unfinished for the step to be retried; a
 * webhook that arrives before the state is written waits for it.
 */
async function finish(env: Env, task: TaskRow, step: Finish, ended: EndedAttempt | undefined): Promise<void> {
  if (task.on_complete_url) await env.TASKS.send({ type: "webhook.deliver", taskId: task.id, teamId: task.team_id }, { delaySeconds: 1 });
  const at = new Date().toISOString();
  const update = env.DB
    .prepare(
      `UPDATE tasks SET status = ?, error = ?, result = COALESCE(?, result), lease_until = NULL, updated_at = ?, completed_at = ?,
         webhook_status = CASE WHEN on_complete_url IS NULL THEN NULL ELSE 'pending' END
       WHERE id = ? AND ${from("finish")}`,
    )
    .bind(step.status, step.error, step.result ? JSON.stringify(step.result) : null, at, at, task.id);
  await write(env, update, closeAttempt(env, task, ended, at));
  log.info("task_finished", { taskId: task.id, teamId: task.team_id, status: step.status, attempts: task.attempts });
}

/** Cancels a task that has not started; the cancelled row, or null if its status did not allow it. */
export async function cancel(db: D1Database, teamId: string, taskId: string): Promise<TaskRow | null> {
  const at = new Date().toISOString();
  return db
    .prepare(`UPDATE tasks SET ${to("cancel")}, updated_at = ?, completed_at = ? WHERE id = ? AND team_id = ? AND ${from("cancel")} RETURNING *`)
    .bind(at, at, taskId, teamId)
    .first<TaskRow>();
}

/**
 * Re-opens a failed or timed-out task as a new run (attempts counted afresh, result, error and
 * webhook state cleared; the attempt history stays), only if every token reference is still
 * an active token of its team, with its audit row in the same batch. The re-opened row, or
 * null if the status or a reference did not allow it.
 */
export async function reopen(db: D1Database, task: Pick<TaskRow, "id" | "team_id">, refs: string[], audit: Omit<AuditEntry, "teamId" | "targetType" | "targetId" | "action">): Promise<TaskRow | null> {
  const at = new Date().toISOString();
  const list = refs.map(() => "?").join(", ");
  const guard = refs.length === 0 ? "" : ` AND (SELECT COUNT(*) FROM tokens WHERE team_id = ? AND revoked_at IS NULL AND id IN (${list})) = ${refs.length}`;
  // A new run takes the credentials' current versions (a run never mixes versions).
  const versions = refs.length === 0 ? "" : `, token_versions = (SELECT json_group_object(id, current_version) FROM tokens WHERE team_id = ? AND id IN (${list}))`;
  const [updated] = await db.batch<TaskRow>([
    db
      .prepare(
        `UPDATE tasks SET ${to("reopen")}, runs = runs + 1, attempts = 0, run_at = ?, updated_at = ?, error = NULL, result = NULL, poll_state = NULL,
           lease_until = NULL, started_at = NULL, completed_at = NULL, webhook_status = NULL, webhook_attempts = 0, webhook_error = NULL${versions}
         WHERE id = ? AND team_id = ? AND ${from("reopen")}${guard} RETURNING *`,
      )
      .bind(at, at, ...(refs.length > 0 ? [task.team_id, ...refs] : []), task.id, task.team_id, ...(refs.length > 0 ? [task.team_id, ...refs] : [])),
    auditStatement(db, { ...audit, teamId: task.team_id, action: "task.retried", targetType: "task", targetId: task.id }, at, { onlyIfChanged: true }),
  ]);
  return updated?.results[0] ?? null;
}

/** Past the idempotency window a key is free again. */
export async function releaseIdempotencyKey(db: D1Database, taskId: string, key: string): Promise<void> {
  await db.prepare("UPDATE tasks SET idempotency_key = NULL WHERE id = ? AND idempotency_key = ?").bind(taskId, key).run();
}

// ---- The completion webhook's own state (webhook_status: pending -> delivered | failed) ----

export async function recordWebhookAttempt(env: Env, taskId: string, step: WebhookStep): Promise<Delivery> {
  await env.DB
    .prepare("UPDATE tasks SET webhook_status = ?, webhook_attempts = ?, webhook_error = ?, updated_at = ? WHERE id = ? AND webhook_status = 'pending'")
    .bind(step.status, step.attempts, step.error, new Date().toISOString(), taskId)
    .run();
  if (step.error !== null) log.warn("webhook_failed", { taskId, attempt: step.attempts, final: step.retryAfterSeconds === null });
  return step.retryAfterSeconds === null ? ack() : retry(step.retryAfterSeconds);
}

export async function deadLetterWebhook(env: Env, taskId: string): Promise<void> {
  await env.DB.prepare("UPDATE tasks SET webhook_status = 'failed', webhook_error = 'dead-lettered' WHERE id = ? AND webhook_status = 'pending'").bind(taskId).run();
}

// ---- Self-healing ----

/** Re-sends lost steps (sweeper.ts finds them) and touches their tasks so the next sweep gives them time to run. */
export async function requeueStalled(env: Env, messages: MessageSendRequest<QueueMessage>[], now: Date): Promise<void> {
  await env.TASKS.sendBatch(messages);
  const at = now.toISOString();
  const ids = [...new Set(messages.map((m) => m.body.taskId))];
  await env.DB.batch(ids.map((id) => env.DB.prepare("UPDATE tasks SET updated_at = ? WHERE id = ?").bind(at, id)));
}
