import { taskContext } from "../context";
import type { Env } from "../env";
import { log } from "../log";
import { VaultDecryptError } from "../vault/cipher";
import { resolveTokens, TokenUnavailableError } from "../vault/tokens";
import { callOut, storedBody, type CallOutcome } from "./http-call";
import { backoffSeconds, isFinal, type PollState, type TaskResult, type TaskRow, type TaskStatus } from "./model";
import { getPath, renderTemplate, TemplateError } from "./paths";
import { mayForwardCredentials, type PollConfig } from "./providers";
import { credentialHeaderNames, redact, referencesIn, substitute } from "./references";
import { allowPrivateTargets, delayFor } from "./service";
import { checkOutboundUrl } from "./ssrf";

/**
 * Executes tasks from queue messages. Every step is guarded by the task's status in D1, so a
 * redelivered message for a task that moved on (final, cancelled, already claimed) is a no-op.
 * Plaintext credentials live only inside one step: resolved, used for the call, dropped.
 */
export type StepResult = { ack: true } | { retryAfterSeconds: number };
const ACK: StepResult = { ack: true };
const MAX_RETRY_AFTER_SECONDS = 3600;
const MAX_CONSECUTIVE_POLL_ERRORS = 5;

type TaskWithTeam = TaskRow & { key_salt: string };

async function loadForExecution(env: Env, taskId: string): Promise<TaskWithTeam | null> {
  return env.DB.prepare("SELECT t.*, tm.key_salt FROM tasks t JOIN teams tm ON tm.id = t.team_id WHERE t.id = ?").bind(taskId).first<TaskWithTeam>();
}

function callerFor(env: Env, row: TaskWithTeam) {
  return taskContext(env, { id: row.id, apiKeyId: row.api_key_id, team: { id: row.team_id, keySalt: row.key_salt } });
}

/** First delivery and retries of a task's main call. */
export async function executeTask(env: Env, taskId: string): Promise<StepResult> {
  const row = await loadForExecution(env, taskId);
  if (!row || isFinal(row.status) || row.status === "polling") return ACK;
  if (Date.parse(row.run_at) > Date.now() + 1000) {
    // Early: a delay longer than the queue allows, or a duplicate of a scheduled retry.
    await env.TASKS.send({ type: "task.execute", taskId, teamId: row.team_id }, { delaySeconds: delayFor(row.run_at) });
    return ACK;
  }
  const now = new Date();
  const claimed = await env.DB
    .prepare(
      `UPDATE tasks SET status = 'processing', attempts = attempts + 1, started_at = COALESCE(started_at, ?), updated_at = ?, lease_until = ?
       WHERE id = ? AND (status IN ('pending', 'delayed') OR (status = 'processing' AND lease_until < ?)) RETURNING attempts`,
    )
    .bind(now.toISOString(), now.toISOString(), new Date(now.getTime() + (row.timeout_s + 60) * 1000).toISOString(), taskId, now.toISOString())
    .first<{ attempts: number }>();
  if (!claimed) {
    // Another delivery holds the lease: look again once it runs out, in case that consumer died.
    if (row.status === "processing" && row.lease_until) {
      return { retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(row.lease_until) - Date.now()) / 1000) + 1) };
    }
    return ACK; // cancelled or finished meanwhile
  }
  try {
    return await attempt(env, row, claimed.attempts);
  } catch (error) {
    if (error instanceof VaultDecryptError) {
      await finish(env, row, "failed", `Token reference ${error.tokenId} could not be decrypted; no request was made`, null, claimed.attempts);
      return ACK;
    }
    // Hand the task back so a redelivery (or the sweeper) can run it; the queue retries the message.
    await env.DB
      .prepare("UPDATE tasks SET status = 'pending', lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'processing'")
      .bind(new Date().toISOString(), taskId)
      .run();
    throw error;
  }
}

async function attempt(env: Env, row: TaskWithTeam, attempts: number): Promise<StepResult> {
  const taskId = row.id;
  const headers = JSON.parse(row.headers) as Record<string, string>;
  let values: Map<string, string>;
  try {
    values = await resolveTokens(callerFor(env, row), referencesIn(headers));
  } catch (error) {
    if (error instanceof TokenUnavailableError) {
      await finish(env, row, "failed", `Token reference ${error.tokenIds.join(", ")} is revoked or no longer available; no request was made`, null, attempts);
      return ACK;
    }
    throw error;
  }
  const secrets = [...values.values()];
  const outcome = await callOut({
    method: row.method,
    url: row.target_url,
    headers: substitute(headers, values),
    credentialHeaders: credentialHeaderNames(headers),
    body: row.body ?? undefined,
    timeoutMs: row.timeout_s * 1000,
    allowPrivate: allowPrivateTargets(env),
  });
  values.clear();

  const result = outcome.kind === "response" ? toResult(outcome, secrets) : null;
  if (outcome.kind === "blocked") {
    await finish(env, row, "failed", redact(outcome.message, secrets), null, attempts);
    return ACK;
  }
  if (outcome.kind === "response" && !isRetryableStatus(outcome.status)) {
    const pollConfig = row.poll_config ? (JSON.parse(row.poll_config) as PollConfig) : null;
    if (pollConfig && outcome.status >= 200 && outcome.status < 300 && result) {
      await startPolling(env, row, result, parseJson(redact(outcome.body, secrets)), pollConfig);
      return ACK;
    }
    await finish(env, row, "completed", null, result, attempts);
    return ACK;
  }
  const error = describeFailure(outcome, secrets, row.timeout_s);
  if (attempts <= row.max_retries) {
    const retryAfter = outcome.kind === "response" ? retryAfterSeconds(outcome.headers["retry-after"]) : undefined;
    const delay = retryAfter ?? backoffSeconds(row.retry_backoff, attempts);
    // run_at holds the retry back even if a duplicate message arrives early.
    await env.DB
      .prepare("UPDATE tasks SET status = 'pending', error = ?, result = ?, run_at = ?, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'processing'")
      .bind(error, result ? JSON.stringify(result) : null, new Date(Date.now() + delay * 1000).toISOString(), new Date().toISOString(), taskId)
      .run();
    return { retryAfterSeconds: delay };
  }
  await finish(env, row, outcome.kind === "timeout" ? "timeout" : "failed", error, result, attempts);
  return ACK;
}

const isRetryableStatus = (status: number) => status >= 500 || status === 429;

function describeFailure(outcome: CallOutcome, secrets: string[], timeoutSeconds: number): string {
  switch (outcome.kind) {
    case "response":
      return `Target answered ${outcome.status}`;
    case "timeout":
      return `Attempt timed out after ${timeoutSeconds} s`;
    case "network":
      return redact(`Network error: ${outcome.message}`, secrets);
    case "blocked":
      return redact(outcome.message, secrets);
  }
}

/** Seconds from a Retry-After header (delta seconds or HTTP date), bounded. */
export function retryAfterSeconds(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) : (Date.parse(header) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(seconds)));
}

function toResult(outcome: Extract<CallOutcome, { kind: "response" }>, secrets: string[]): TaskResult {
  const headers = Object.fromEntries(Object.entries(outcome.headers).map(([k, v]) => [k, redact(v, secrets)]));
  const { body, truncated } = storedBody(outcome.body, outcome.truncated, (text) => redact(text, secrets));
  return { statusCode: outcome.status, headers, body, truncated, durationMs: outcome.durationMs };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function startPolling(env: Env, row: TaskWithTeam, submit: TaskResult, document: unknown, config: PollConfig) {
  const state: PollState = {
    startedAt: new Date().toISOString(),
    polls: 0,
    startResult: { statusCode: submit.statusCode, headers: submit.headers, body: document },
  };
  // The first poll is queued before the state moves: a failed send leaves the step to be retried.
  await env.TASKS.send({ type: "task.poll", taskId: row.id, teamId: row.team_id, poll: 0 }, { delaySeconds: config.interval });
  await env.DB
    .prepare("UPDATE tasks SET status = 'polling', poll_state = ?, result = ?, error = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND status = 'processing'")
    .bind(JSON.stringify(state), JSON.stringify(submit), new Date().toISOString(), row.id)
    .run();
}

/** One status check of a polling task; schedules the next one as a delayed message. */
export async function pollTask(env: Env, taskId: string, expectedPolls?: number): Promise<StepResult> {
  const row = await loadForExecution(env, taskId);
  if (!row || row.status !== "polling" || !row.poll_config || !row.poll_state) return ACK;
  const config = JSON.parse(row.poll_config) as PollConfig;
  const state = JSON.parse(row.poll_state) as PollState & { errors?: number };
  // A duplicate delivery of an old poll message must not fork a second polling chain.
  if (expectedPolls !== undefined && expectedPolls !== state.polls) return ACK;
  if (Date.now() - Date.parse(state.startedAt) > config.maxDuration * 1000) {
    await finish(env, row, "timeout", `Provider did not finish within maxDuration (${config.maxDuration} s)`, null);
    return ACK;
  }
  const context = { startResult: state.startResult };
  let pollUrl: string;
  try {
    pollUrl = renderTemplate(config.urlTemplate, context);
  } catch (error) {
    await finish(env, row, "failed", error instanceof TemplateError ? error.message : "status URL could not be built", null);
    return ACK;
  }
  const pollError = async (what: string) => {
    const errors = (state.errors ?? 0) + 1;
    if (errors >= MAX_CONSECUTIVE_POLL_ERRORS) {
      await finish(env, row, "failed", `Polling failed ${errors} times in a row (last: ${what})`, null);
    } else {
      await schedulePoll(env, row, config, { ...state, errors });
    }
    return ACK;
  };

  const status = await fetchWithPolicy(env, row, config, pollUrl);
  if (status.kind === "blocked") {
    await finish(env, row, "failed", `status URL ${status.message}`, null);
    return ACK;
  }
  if (status.kind !== "response") return pollError(status.kind);
  if (isRetryableStatus(status.result.statusCode)) return pollError(`status request answered ${status.result.statusCode}`);
  if (status.result.statusCode >= 400) {
    await finish(env, row, "failed", `Status request answered ${status.result.statusCode}`, status.result);
    return ACK;
  }
  // Parsed from the whole body, not the stored (truncated) copy: big documents still parse.
  const document = parseJson(status.raw);
  const found = getPath(document, config.statusPath);
  if (typeof found !== "string" && typeof found !== "number" && typeof found !== "boolean") {
    return pollError(`no ${config.statusPath} in the status answer`);
  }
  const value = String(found);
  if (config.doneValues.includes(value)) {
    if (!config.resultUrlTemplate) {
      await finish(env, row, "completed", null, withOutput(status.result, document, config));
      return ACK;
    }
    let resultUrl: string;
    try {
      resultUrl = renderTemplate(config.resultUrlTemplate, { ...context, status: document });
    } catch (error) {
      await finish(env, row, "failed", error instanceof TemplateError ? error.message : "result URL could not be built", null);
      return ACK;
    }
    const fetched = await fetchWithPolicy(env, row, config, resultUrl);
    if (fetched.kind === "blocked") {
      await finish(env, row, "failed", `result URL ${fetched.message}`, null);
      return ACK;
    }
    // A transient failure of the result fetch is retried (the status is asked again first).
    if (fetched.kind !== "response") return pollError(`result fetch ${fetched.kind}`);
    if (isRetryableStatus(fetched.result.statusCode) && !fetched.result.headers["x-fal-error-type"]) {
      return pollError(`result fetch answered ${fetched.result.statusCode}`);
    }
    const resultDoc = parseJson(fetched.raw);
    if (fetched.result.statusCode >= 400) {
      // fal reports a failed request as an error status on the result fetch.
      const detail = config.errorPath ? getPath(resultDoc, config.errorPath) : undefined;
      await finish(env, row, "failed", `Provider result answered ${fetched.result.statusCode}${detail !== undefined ? `: ${stringify(detail)}` : ""}`, fetched.result);
      return ACK;
    }
    await finish(env, row, "completed", null, withOutput(fetched.result, resultDoc, config));
    return ACK;
  }
  if (config.failValues.includes(value)) {
    const detail = config.errorPath ? getPath(document, config.errorPath) : undefined;
    await finish(env, row, "failed", `Provider reported ${value}${detail !== undefined && detail !== null ? `: ${stringify(detail)}` : ""}`, status.result);
    return ACK;
  }
  await schedulePoll(env, row, config, { ...state, errors: 0, lastStatus: value });
  return ACK;
}

function stringify(value: unknown): string {
  return (typeof value === "string" ? value : JSON.stringify(value)).slice(0, 1000);
}

function withOutput(result: TaskResult, document: unknown, config: PollConfig): TaskResult {
  return config.resultPath ? { ...result, output: getPath(document, config.resultPath) ?? null } : result;
}

async function schedulePoll(env: Env, row: TaskWithTeam, config: PollConfig, state: PollState & { errors?: number }) {
  const next = { ...state, polls: state.polls + 1 };
  // Queued first: if the state write then loses a race, the extra message finds a stale poll number and is dropped.
  await env.TASKS.send({ type: "task.poll", taskId: row.id, teamId: row.team_id, poll: next.polls }, { delaySeconds: config.interval });
  await env.DB
    .prepare("UPDATE tasks SET poll_state = ?, updated_at = ? WHERE id = ? AND status = 'polling' AND poll_state = ?")
    .bind(JSON.stringify(next), new Date().toISOString(), row.id, row.poll_state)
    .run();
}

type PolicyFetch = { kind: "response"; result: TaskResult; raw: string } | { kind: "blocked"; message: string } | { kind: "timeout" | "network" };

/**
 * A GET on behalf of a polling task. Credentials go only where forwardAuth and the origin rule
 * allow; the task's secrets are resolved either way, so that an answer echoing one is redacted.
 */
async function fetchWithPolicy(env: Env, row: TaskWithTeam, config: PollConfig, url: string): Promise<PolicyFetch> {
  const verdict = checkOutboundUrl(url, allowPrivateTargets(env));
  if (!verdict.ok) return { kind: "blocked", message: verdict.reason };
  const submitted = JSON.parse(row.headers) as Record<string, string>;
  const credentialNames = credentialHeaderNames(submitted);
  const forward = config.forwardAuth && mayForwardCredentials(row.target_url, url, row.provider ?? undefined);
  const credentialHeaders = forward ? Object.fromEntries(Object.entries(submitted).filter(([name]) => credentialNames.includes(name.toLowerCase()))) : {};
  let values: Map<string, string>;
  try {
    values = await resolveTokens(callerFor(env, row), referencesIn(submitted));
  } catch (error) {
    if (error instanceof TokenUnavailableError) return { kind: "blocked", message: `needs ${error.tokenIds.join(", ")}, which is revoked or no longer available` };
    throw error;
  }
  const secrets = [...values.values()];
  const outcome = await callOut({
    method: "GET",
    url,
    headers: { accept: "application/json", ...substitute(credentialHeaders, values) },
    credentialHeaders: credentialNames,
    timeoutMs: row.timeout_s * 1000,
    allowPrivate: allowPrivateTargets(env),
  });
  values.clear();
  if (outcome.kind === "response") return { kind: "response", result: toResult(outcome, secrets), raw: redact(outcome.body, secrets) };
  if (outcome.kind === "blocked") return { kind: "blocked", message: redact(outcome.message, secrets) };
  return { kind: outcome.kind };
}

/**
 * Moves a task to a final state (once) and queues its completion webhook. The webhook message
 * is queued first, so a failed send leaves the task unfinished for the step to be retried; a
 * webhook that arrives before the state is written waits for it.
 */
export async function finish(
  env: Env,
  row: TaskRow,
  status: Extract<TaskStatus, "completed" | "failed" | "timeout">,
  error: string | null,
  result: TaskResult | null,
  attempts = row.attempts,
) {
  if (row.on_complete_url) await env.TASKS.send({ type: "webhook.deliver", taskId: row.id, teamId: row.team_id }, { delaySeconds: 1 });
  const at = new Date().toISOString();
  await env.DB
    .prepare(
      `UPDATE tasks SET status = ?, error = ?, result = COALESCE(?, result), lease_until = NULL, updated_at = ?, completed_at = ?,
         webhook_status = CASE WHEN on_complete_url IS NULL THEN NULL ELSE 'pending' END
       WHERE id = ? AND status IN ('pending', 'delayed', 'processing', 'polling')`,
    )
    .bind(status, error, result ? JSON.stringify(result) : null, at, at, row.id)
    .run();
  log.info("task_finished", { taskId: row.id, teamId: row.team_id, status, attempts });
}
