import type { PollConfig } from "./providers";

/** Task statuses; the last four are final. */
export const TASK_STATUSES = ["pending", "delayed", "processing", "polling", "completed", "failed", "timeout", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINAL_STATUSES: readonly TaskStatus[] = ["completed", "failed", "timeout", "cancelled"];
export const isFinal = (status: string) => (FINAL_STATUSES as readonly string[]).includes(status);

export type RetryBackoff = "exponential" | "linear";

export interface TaskResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  durationMs: number;
  /** For polling tasks: the value at pollConfig.resultPath, when set. */
  output?: unknown;
}

export interface PollState {
  startedAt: string;
  polls: number;
  lastStatus?: string;
  /** The submit response, for URL templates: status, headers and JSON body (redacted). */
  startResult: { statusCode: number; headers: Record<string, string>; body: unknown };
}

export interface TaskRow {
  id: string;
  team_id: string;
  api_key_id: string;
  status: TaskStatus;
  method: string;
  target_url: string;
  headers: string;
  body: string | null;
  provider: string | null;
  poll_config: string | null;
  timeout_s: number;
  max_retries: number;
  retry_backoff: RetryBackoff;
  on_complete_url: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  attempts: number;
  run_at: string;
  lease_until: string | null;
  error: string | null;
  result: string | null;
  poll_state: string | null;
  webhook_status: string | null;
  webhook_attempts: number;
  webhook_error: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** 1, plus one per POST /v1/tasks/:id/retry; `attempts` counts within the current run. */
  runs: number;
  /** JSON {tok_id: version}: the versions fixed at creation (null: no references, or a task from before versions). */
  token_versions: string | null;
}

/** A row of task_attempts: one attempt of the task's main call. */
export interface AttemptRow {
  task_id: string;
  run: number;
  attempt: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  status_code: number | null;
  error: string | null;
}

/** An attempt as the API shows it (`finishedAt` null: still running, or abandoned by a consumer that stopped). */
export function attemptView(row: AttemptRow) {
  return {
    run: row.run,
    attempt: row.attempt,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    statusCode: row.status_code,
    error: row.error,
  };
}
export type AttemptView = ReturnType<typeof attemptView>;

export function taskView(row: TaskRow) {
  const result = row.result ? (JSON.parse(row.result) as TaskResult) : null;
  const poll = row.poll_state ? (JSON.parse(row.poll_state) as PollState) : null;
  return {
    id: row.id,
    status: row.status,
    method: row.method,
    targetUrl: row.target_url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    body: row.body,
    provider: row.provider,
    pollConfig: row.poll_config ? (JSON.parse(row.poll_config) as PollConfig) : null,
    timeout: row.timeout_s,
    maxRetries: row.max_retries,
    retryBackoff: row.retry_backoff,
    onCompleteUrl: row.on_complete_url,
    attempts: row.attempts,
    error: row.error,
    result,
    polling: poll ? { startedAt: poll.startedAt, polls: poll.polls, lastStatus: poll.lastStatus ?? null } : null,
    webhook: row.on_complete_url ? { status: row.webhook_status ?? "pending", attempts: row.webhook_attempts, error: row.webhook_error } : null,
    scheduledFor: row.run_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
  };
}
export type TaskView = ReturnType<typeof taskView>;

/** Lists leave out bodies: a page of full results could run to megabytes. */
export function taskSummary(row: TaskRow) {
  const { body: _body, result, ...rest } = taskView(row);
  return { ...rest, result: result ? { statusCode: result.statusCode, durationMs: result.durationMs, truncated: result.truncated } : null };
}

/** Seconds before retry `attempt` (1-based): 1, 2, 4, 8, 16... or 1, 2, 3, 4, 5..., capped at an hour. */
export function backoffSeconds(kind: RetryBackoff, attempt: number): number {
  const seconds = kind === "exponential" ? 2 ** (attempt - 1) : attempt;
  return Math.min(Math.max(1, seconds), 3600);
}
