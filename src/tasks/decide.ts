import { backoffSeconds, isFinal, type PollState, type TaskResult, type TaskRow, type TaskStatus } from "./model";
import { getPath, renderTemplate, TemplateError } from "./paths";
import { providerNamed, type PollConfig } from "./providers";

/**
 * The task state machine's decisions, as pure functions: from the task's state and what just
 * happened (an outcome, already redacted: no secret ever reaches this module) to the next step.
 * No I/O, no env, no clock (the caller passes `now`). transitions.ts applies the steps; the
 * executors (execute.ts, poll.ts, webhooks/deliver.ts) only gather outcomes.
 */

/** The queue's longest delivery delay; longer delays are re-enqueued when they come due. */
export const MAX_QUEUE_DELAY_SECONDS = 12 * 3600;
const MAX_RETRY_AFTER_SECONDS = 3600;
const MAX_CONSECUTIVE_POLL_ERRORS = 5;
/** A delivery this early (ms) is a duplicate or a delay longer than the queue allows. */
export const EARLY_TOLERANCE_MS = 1000;
export const MAX_WEBHOOK_ATTEMPTS = 5;
/** Seconds a webhook waits for the final state it was queued just before. */
const WEBHOOK_WAIT_SECONDS = 5;

export type FinalStatus = Extract<TaskStatus, "completed" | "failed" | "timeout">;
/** The poll state as stored: PollState plus the count of consecutive poll errors. */
export type PollProgress = PollState & { errors?: number };
/** The fields of a task row the decisions read. */
export type TaskState = Pick<TaskRow, "status" | "run_at" | "lease_until" | "attempts" | "max_retries" | "retry_backoff" | "timeout_s" | "provider" | "poll_config" | "poll_state">;

// ---- Steps: what to do next ----
/** Leave the task as it is. */
export type Nothing = { step: "nothing" };
/** Not due yet: queue a new delivery for when it is. */
export type Defer = { step: "defer"; afterSeconds: number };
/** Deliver this message again later, the task unchanged (a lease to run out, a state to be written). */
export type Wait = { step: "wait"; afterSeconds: number };
/** Take the task (processing) and make the attempt. */
export type Claim = { step: "claim" };
/** Make the next request of a poll step; `forwardAuth`: credentials may go along (where the origin rule allows). */
export type Fetch = { step: "fetch"; target: "status" | "result"; url: string; forwardAuth: boolean };
/** Move to a final state (once). */
export type Finish = { step: "finish"; status: FinalStatus; error: string | null; result: TaskResult | null };
/** The attempt failed; hand the task back for another one after a while. */
export type Retry = { step: "retry"; afterSeconds: number; error: string; result: TaskResult | null };
export type StartPolling = { step: "startPolling"; afterSeconds: number; state: PollProgress; result: TaskResult };
export type PollAgain = { step: "pollAgain"; afterSeconds: number; state: PollProgress };
/** The steps transitions.ts applies (the others are the executors' own: claim, fetch). */
export type Step = Nothing | Defer | Wait | Finish | Retry | StartPolling | PollAgain;

const NOTHING: Nothing = { step: "nothing" };
const finish = (status: FinalStatus, error: string | null, result: TaskResult | null): Finish => ({ step: "finish", status, error, result });

// ---- Outcomes: what happened ----
/** A request's answer or failure, redacted. `body` is the whole body as read (for JSON documents); `result` the stored copy. */
export type CallObservation =
  | { kind: "response"; result: TaskResult; body: string; retryAfter?: string | undefined }
  | { kind: "timeout" }
  | { kind: "network"; message: string }
  | { kind: "blocked"; message: string };
/** The attempt of a task's main call; nothing was sent for the last two. */
export type AttemptOutcome = CallObservation | { kind: "references_unavailable"; tokenIds: string[] } | { kind: "undecryptable"; tokenId: string };
/** A status or result request of a polling task. */
export type FetchOutcome = CallObservation | { kind: "references_unavailable"; tokenIds: string[] };

// ---- Executing ----

/** A task.execute message arrives. */
export function onDelivery(task: TaskState, now: number): Nothing | Defer | Claim {
  if (isFinal(task.status) || task.status === "polling") return NOTHING;
  if (Date.parse(task.run_at) > now + EARLY_TOLERANCE_MS) return { step: "defer", afterSeconds: delayFor(task.run_at, now) };
  return { step: "claim" };
}

/** The claim found the task taken or gone. */
export function onClaimLost(task: TaskState, now: number): Nothing | Wait {
  // Another delivery holds the lease: look again once it runs out, in case that consumer died.
  if (task.status === "processing" && task.lease_until) {
    return { step: "wait", afterSeconds: Math.max(1, Math.ceil((Date.parse(task.lease_until) - now) / 1000) + 1) };
  }
  return NOTHING; // cancelled or finished meanwhile
}

/** The main call was made (or could not be). `task.attempts` counts this attempt. */
export function afterAttempt(task: TaskState, outcome: AttemptOutcome, now: number): Finish | Retry | StartPolling {
  switch (outcome.kind) {
    case "references_unavailable":
      return finish("failed", `Token reference ${outcome.tokenIds.join(", ")} is revoked or no longer available; no request was made`, null);
    case "undecryptable":
      return finish("failed", `Token reference ${outcome.tokenId} could not be decrypted; no request was made`, null);
    case "blocked":
      return finish("failed", outcome.message, null);
    case "response":
      if (!isRetryableStatus(outcome.result.statusCode)) {
        const config = pollConfigOf(task);
        if (config && isSuccess(outcome.result.statusCode)) return startPolling(config, outcome.result, outcome.body, now);
        return finish("completed", null, outcome.result);
      }
  }
  const result = outcome.kind === "response" ? outcome.result : null;
  const error = describeFailure(outcome, task.timeout_s);
  if (task.attempts <= task.max_retries) {
    const retryAfter = outcome.kind === "response" ? retryAfterSeconds(outcome.retryAfter, now) : undefined;
    return { step: "retry", afterSeconds: retryAfter ?? backoffSeconds(task.retry_backoff, task.attempts), error, result };
  }
  return finish(outcome.kind === "timeout" ? "timeout" : "failed", error, result);
}

function describeFailure(outcome: CallObservation, timeoutSeconds: number): string {
  switch (outcome.kind) {
    case "response":
      return `Target answered ${outcome.result.statusCode}`;
    case "timeout":
      return `Attempt timed out after ${timeoutSeconds} s`;
    case "network":
      return `Network error: ${outcome.message}`;
    case "blocked":
      return outcome.message;
  }
}

function startPolling(config: PollConfig, submit: TaskResult, body: string, now: number): StartPolling {
  const state: PollProgress = {
    startedAt: new Date(now).toISOString(),
    polls: 0,
    startResult: { statusCode: submit.statusCode, headers: submit.headers, body: parseJson(body) },
  };
  return { step: "startPolling", afterSeconds: config.interval, state, result: submit };
}

/** What the attempt log keeps of an attempt that ended (errors as redacted as the task's own). */
export type AttemptEnd = { statusCode: number | null; error: string | null };

/** The attempt's entry in the task's history, from what happened and what was decided. */
export function attemptEnd(outcome: AttemptOutcome, step: Finish | Retry | StartPolling): AttemptEnd {
  return {
    statusCode: outcome.kind === "response" ? outcome.result.statusCode : null,
    error: step.step === "startPolling" ? null : step.error,
  };
}

/** POST /v1/tasks/:id/retry: a failed (dead-lettered included) or timed-out task runs again, as a new run of the same task. */
export function onRetryRequest(task: Pick<TaskState, "status">): { step: "reopen" } | { step: "refuse"; status: TaskStatus } {
  return task.status === "failed" || task.status === "timeout" ? { step: "reopen" } : { step: "refuse", status: task.status };
}

/** A message that kept failing reached the dead-letter queue. */
export function onDeadLetter(): Finish {
  return finish("failed", "Task could not be processed (message dead-lettered after repeated errors)", null);
}

// ---- Polling ----

/** A task.poll message arrives: first the status request, unless the task moved on. */
export function onPollDelivery(task: TaskState, expectedPolls: number | undefined, now: number): Nothing | Finish | Fetch {
  const config = pollConfigOf(task);
  const state = pollStateOf(task);
  if (task.status !== "polling" || !config || !state) return NOTHING;
  // A duplicate delivery of an old poll message must not fork a second polling chain.
  if (expectedPolls !== undefined && expectedPolls !== state.polls) return NOTHING;
  if (now - Date.parse(state.startedAt) > config.maxDuration * 1000) {
    return finish("timeout", `Provider did not finish within maxDuration (${config.maxDuration} s)`, null);
  }
  return fetchOrFail(config, "status", config.urlTemplate, { startResult: state.startResult });
}

/** The status request of a poll step answered (or failed). */
export function afterStatusFetch(task: TaskState, outcome: FetchOutcome): Finish | PollAgain | Fetch {
  const { config, state } = polling(task);
  const pollError = (what: string) => pollFailure(config, state, what);
  switch (outcome.kind) {
    case "blocked":
    case "references_unavailable":
      return finish("failed", `status URL ${refusal(outcome)}`, null);
    case "timeout":
    case "network":
      return pollError(outcome.kind);
  }
  const answer = outcome.result;
  if (isRetryableStatus(answer.statusCode)) return pollError(`status request answered ${answer.statusCode}`);
  if (answer.statusCode >= 400) return finish("failed", `Status request answered ${answer.statusCode}`, answer);
  // Parsed from the whole body, not the stored (truncated) copy: big documents still parse.
  const document = parseJson(outcome.body);
  const found = getPath(document, config.statusPath);
  if (typeof found !== "string" && typeof found !== "number" && typeof found !== "boolean") {
    return pollError(`no ${config.statusPath} in the status answer`);
  }
  const value = String(found);
  if (config.doneValues.includes(value)) {
    if (!config.resultUrlTemplate) return finish("completed", null, withOutput(answer, document, config));
    return fetchOrFail(config, "result", config.resultUrlTemplate, { startResult: state.startResult, status: document });
  }
  if (config.failValues.includes(value)) {
    const detail = config.errorPath ? getPath(document, config.errorPath) : undefined;
    return finish("failed", `Provider reported ${value}${detail !== undefined && detail !== null ? `: ${stringify(detail)}` : ""}`, answer);
  }
  return { step: "pollAgain", afterSeconds: config.interval, state: nextPoll({ ...state, errors: 0, lastStatus: value }) };
}

/** The result request (after a done status) answered (or failed). */
export function afterResultFetch(task: TaskState, outcome: FetchOutcome): Finish | PollAgain {
  const { config, state } = polling(task);
  switch (outcome.kind) {
    case "blocked":
    case "references_unavailable":
      return finish("failed", `result URL ${refusal(outcome)}`, null);
    case "timeout":
    case "network":
      // A transient failure of the result fetch is retried (the status is asked again first).
      return pollFailure(config, state, `result fetch ${outcome.kind}`);
  }
  const answer = outcome.result;
  if (isRetryableStatus(answer.statusCode) && !providerNamed(task.provider)?.isJobFailure?.(answer)) {
    return pollFailure(config, state, `result fetch answered ${answer.statusCode}`);
  }
  const document = parseJson(outcome.body);
  if (answer.statusCode >= 400) {
    const detail = config.errorPath ? getPath(document, config.errorPath) : undefined;
    return finish("failed", `Provider result answered ${answer.statusCode}${detail !== undefined ? `: ${stringify(detail)}` : ""}`, answer);
  }
  return finish("completed", null, withOutput(answer, document, config));
}

function fetchOrFail(config: PollConfig, target: Fetch["target"], template: string, context: unknown): Fetch | Finish {
  try {
    return { step: "fetch", target, url: renderTemplate(template, context), forwardAuth: config.forwardAuth };
  } catch (error) {
    return finish("failed", error instanceof TemplateError ? error.message : `${target} URL could not be built`, null);
  }
}

function pollFailure(config: PollConfig, state: PollProgress, what: string): Finish | PollAgain {
  const errors = (state.errors ?? 0) + 1;
  if (errors >= MAX_CONSECUTIVE_POLL_ERRORS) return finish("failed", `Polling failed ${errors} times in a row (last: ${what})`, null);
  return { step: "pollAgain", afterSeconds: config.interval, state: nextPoll({ ...state, errors }) };
}

const nextPoll = (state: PollProgress): PollProgress => ({ ...state, polls: state.polls + 1 });

function refusal(outcome: Extract<FetchOutcome, { kind: "blocked" | "references_unavailable" }>): string {
  return outcome.kind === "blocked" ? outcome.message : `needs ${outcome.tokenIds.join(", ")}, which is revoked or no longer available`;
}

function withOutput(result: TaskResult, document: unknown, config: PollConfig): TaskResult {
  return config.resultPath ? { ...result, output: getPath(document, config.resultPath) ?? null } : result;
}

function polling(task: TaskState): { config: PollConfig; state: PollProgress } {
  const config = pollConfigOf(task);
  const state = pollStateOf(task);
  // The executors only fetch for a task onPollDelivery let through.
  if (!config || !state) throw new Error("not a polling task");
  return { config, state };
}

const pollConfigOf = (task: TaskState) => (task.poll_config ? (JSON.parse(task.poll_config) as PollConfig) : null);
const pollStateOf = (task: TaskState) => (task.poll_state ? (JSON.parse(task.poll_state) as PollProgress) : null);

// ---- Webhooks (the task's completion notice has its own small machine: webhook_status) ----

export type WebhookTask = Pick<TaskRow, "status" | "on_complete_url" | "webhook_status" | "webhook_attempts">;
export type WebhookEvent = "task.completed" | "task.failed" | "task.timeout";
const EVENTS: Partial<Record<TaskStatus, WebhookEvent>> = { completed: "task.completed", failed: "task.failed", timeout: "task.timeout" };

/** A webhook.deliver message arrives. */
export function onWebhookDelivery(task: WebhookTask): Nothing | Wait | { step: "deliver"; url: string; event: WebhookEvent; attempt: number } {
  if (!task.on_complete_url) return NOTHING;
  // Queued just before the task's final state was written: wait for it.
  if (task.webhook_status === null && !isFinal(task.status)) return { step: "wait", afterSeconds: WEBHOOK_WAIT_SECONDS };
  if (task.webhook_status !== "pending") return NOTHING;
  const event = EVENTS[task.status];
  if (!event) return NOTHING;
  return { step: "deliver", url: task.on_complete_url, event, attempt: task.webhook_attempts + 1 };
}

/** `refused`: the URL policy turned the onCompleteUrl down before any request (final at once). */
export type WebhookOutcome = { kind: "refused"; reason: string } | { kind: "response"; status: number } | { kind: "timeout" | "network" | "blocked" };
export type WebhookStep = { step: "webhook"; status: "delivered" | "failed" | "pending"; attempts: number; error: string | null; retryAfterSeconds: number | null };

export function afterWebhookAttempt(attempt: number, outcome: WebhookOutcome): WebhookStep {
  let error: string | null;
  if (outcome.kind === "refused") error = `onCompleteUrl ${outcome.reason}`;
  else if (outcome.kind === "response" && isSuccess(outcome.status)) error = null;
  else error = outcome.kind === "response" ? `Webhook endpoint answered ${outcome.status}` : `Webhook delivery failed (${outcome.kind})`;
  const final = error === null || attempt >= MAX_WEBHOOK_ATTEMPTS || outcome.kind === "refused";
  return {
    step: "webhook",
    status: error === null ? "delivered" : final ? "failed" : "pending",
    attempts: attempt,
    error,
    retryAfterSeconds: final ? null : 2 ** attempt,
  };
}

// ---- Small shared rules ----

const isRetryableStatus = (status: number) => status >= 500 || status === 429;
const isSuccess = (status: number) => status >= 200 && status < 300;

/** Seconds from now until `runAt`, as a queue delivery delay (bounded by what the queue allows). */
export function delayFor(runAt: string, now: number = Date.now()): number {
  return Math.min(MAX_QUEUE_DELAY_SECONDS, Math.max(0, Math.ceil((Date.parse(runAt) - now) / 1000)));
}

/** Seconds from a Retry-After header (delta seconds or HTTP date), bounded. */
export function retryAfterSeconds(header: string | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - now) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function stringify(value: unknown): string {
  return (typeof value === "string" ? value : JSON.stringify(value)).slice(0, 1000);
}
