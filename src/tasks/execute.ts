import type { Env } from "../env";
import { taskContext } from "../context";
import { gateFor } from "../gate/client";
import { PLANS, type Plan } from "../plans";
import { ack, type Delivery } from "../queue/messages";
import { VaultDecryptError } from "../vault/cipher";
import { freshenOAuthValues, OAuthUnavailableError } from "../oauth/inject";
import { resolveReferences, TokenUnavailableError, type Resolved } from "../vault/tokens";
import { urlAllowedFor } from "../vault/hosts";
import { afterAttempt, attemptEnd, onClaimLost, onDelivery, type AttemptOutcome, type CallObservation } from "./decide";
import { redact, storedBody } from "../outbound/redact";
import { allowLoopbackTargets } from "../outbound/url-policy";
import { withDefaultContentType } from "./content-type";
import { callOut, type CallOutcome } from "./http-call";
import type { TaskRow } from "./model";
import { credentialHeaderNames, referencesIn, substitute } from "./references";
import { apply, claim, deferBusy, leaseSeconds, release } from "./transitions";

/**
 * Executes a task's main call from a task.execute message: gathers what happens, asks
 * decide.ts what follows, and has transitions.ts apply it. Every write is guarded by the
 * task's status, so a redelivered message for a task that moved on is a no-op. Plaintext
 * credentials live only inside one attempt: resolved, used for the call, dropped.
 */
export type TaskWithTeam = TaskRow & { key_salt: string; plan: Plan };

/** Seconds a task over its team's parallelism limit waits before its execution is tried again. */
export const BUSY_RETRY_SECONDS = 2;

export async function loadForExecution(env: Env, taskId: string): Promise<TaskWithTeam | null> {
  return env.DB.prepare("SELECT t.*, tm.key_salt, tm.plan FROM tasks t JOIN teams tm ON tm.id = t.team_id WHERE t.id = ?").bind(taskId).first<TaskWithTeam>();
}

/** The task resolves its references as itself, on behalf of the key that created it. */
export function callerFor(env: Env, row: TaskWithTeam) {
  return taskContext(env, { id: row.id, apiKeyId: row.api_key_id, team: { id: row.team_id, keySalt: row.key_salt } });
}

/** The versions a task fixed at creation (tasks from before versions resolve the current one). */
export function pinnedVersions(row: Pick<TaskRow, "token_versions">): Record<string, number> {
  if (!row.token_versions) return {};
  const parsed = JSON.parse(row.token_versions) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === "number"));
}

/**
 * An OAuth credential without a usable access token: a refresh that failed may pass (retried
 * like a network failure); one that needs a reconnect fails the task.
 */
export function oauthOutcome(error: OAuthUnavailableError): { kind: "network" | "blocked"; message: string } {
  const message = `credential ${error.tokenId}: ${error.message}`;
  return error.code === "oauth_refresh_failed" ? { kind: "network", message } : { kind: "blocked", message };
}

/** A URL may receive the resolved credentials only if every one of them allows its host. */
export function hostCheck(resolved: Resolved): (url: string) => boolean {
  const bound = [...resolved.allowedHosts.values()].filter((hosts) => hosts !== null);
  return (url) => bound.every((hosts) => urlAllowedFor(url, hosts));
}

/** First delivery and retries of a task's main call. */
export async function executeTask(env: Env, taskId: string): Promise<Delivery> {
  const row = await loadForExecution(env, taskId);
  if (!row) return ack();
  const arrival = onDelivery(row, Date.now());
  if (arrival.step !== "claim") return apply(env, row, arrival);
  // One of the team's call slots first (the plan's parallelism limit), before the claim: a task
  // that finds none is tried again shortly, with no attempt counted and no queue retry spent.
  const gate = gateFor(env, row.team_id);
  const holder = `${row.id}:${crypto.randomUUID()}`;
  const slot = await gate.acquireCall(holder, PLANS[row.plan].maxParallelCalls, leaseSeconds(row) * 1000);
  if (!slot.granted) {
    await deferBusy(env, row, BUSY_RETRY_SECONDS);
    return ack();
  }
  try {
    const startedAt = new Date();
    const claimed = await claim(env, row, startedAt);
    if (claimed === null) return await apply(env, row, onClaimLost(row, Date.now()));
    const task = { ...row, status: "processing" as const, attempts: claimed.attempt, runs: claimed.run };
    try {
      const outcome = await attempt(env, task);
      const step = afterAttempt(task, outcome, Date.now());
      return await apply(env, task, step, { ...attemptEnd(outcome, step), run: claimed.run, attempt: claimed.attempt, startedAt });
    } catch (error) {
      // Hand the task back so a redelivery (or the sweeper) can run it; the queue retries the message.
      await release(env, taskId);
      throw error;
    }
  } finally {
    await gate.releaseCall(holder);
  }
}

async function attempt(env: Env, task: TaskWithTeam): Promise<AttemptOutcome> {
  const headers = JSON.parse(task.headers) as Record<string, string>;
  let resolved: Resolved;
  try {
    const caller = callerFor(env, task);
    resolved = await resolveReferences(caller, referencesIn(headers), pinnedVersions(task));
    await freshenOAuthValues(caller, resolved);
  } catch (error) {
    if (error instanceof TokenUnavailableError) return { kind: "references_unavailable", tokenIds: error.tokenIds };
    if (error instanceof OAuthUnavailableError) return oauthOutcome(error);
    if (error instanceof VaultDecryptError) return { kind: "undecryptable", tokenId: error.tokenId };
    throw error;
  }
  const values = resolved.values;
  const secrets = [...values.values()];
  const outcome = await callOut({
    credentialsAllowedAt: hostCheck(resolved),
    method: task.method,
    url: task.target_url,
    headers: withDefaultContentType(substitute(headers, values), task.body ?? undefined),
    credentialHeaders: credentialHeaderNames(headers),
    body: task.body ?? undefined,
    timeoutMs: task.timeout_s * 1000,
    allowLoopback: allowLoopbackTargets(env),
  });
  values.clear();
  return observe(outcome, secrets);
}

/**
 * What decide.ts may see of a call: everything the target sent back is redacted of the
 * task's secrets here, once (the stored body is cut from the redacted whole).
 */
export function observe(outcome: CallOutcome, secrets: string[]): CallObservation {
  switch (outcome.kind) {
    case "response": {
      const body = redact(outcome.body, secrets);
      // Names too: a target can answer with a header named after the secret.
      const headers = Object.fromEntries(Object.entries(outcome.headers).map(([k, v]) => [redact(k, secrets), redact(v, secrets)]));
      const stored = storedBody(body, outcome.truncated, (text) => text);
      const result = { statusCode: outcome.status, headers, body: stored.body, truncated: stored.truncated, durationMs: outcome.durationMs };
      return { kind: "response", result, body, retryAfter: outcome.headers["retry-after"] };
    }
    case "timeout":
      return { kind: "timeout" };
    case "network":
      return { kind: "network", message: redact(outcome.message, secrets) };
    case "blocked":
      return { kind: "blocked", message: redact(outcome.message, secrets) };
  }
}
