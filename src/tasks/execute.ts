import type { Env } from "../env";
import { taskContext, type TeamContext } from "../context";
import { PLANS, type Plan } from "../plans";
import { ack, type Delivery, type ExecutionHint } from "../queue/messages";
import { VaultDecryptError } from "../vault/cipher";
import { freshenOAuthValues, OAuthUnavailableError } from "../oauth/inject";
import { prepareResolution, resolveReferences, TokenUnavailableError, type Resolved } from "../vault/tokens";
import { urlAllowedFor } from "../vault/hosts";
import { afterAttempt, attemptEnd, onClaimLost, onDelivery, type AttemptOutcome, type CallObservation } from "./decide";
import { redact, storedBody } from "../outbound/redact";
import { allowLoopbackTargets } from "../outbound/url-policy";
import { withDefaultContentType } from "./content-type";
import { callOut, type CallOutcome } from "./http-call";
import type { TaskRow } from "./model";
import { credentialHeaderNames, executionHint, referencesIn, substitute } from "./references";
import { apply, claim, deferBusy, release } from "./transitions";

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

/**
 * First delivery and retries of a task's main call. A message carrying its execution hint
 * (every message this version sends) is claimed without reading the task first: one D1 batch
 * claims the task (if its team has a call slot free), opens the attempt, reads its references
 * and writes their audit rows; then the call; then one batch records the outcome. Only a claim
 * that misses (busy team, not due, taken, finished) reads the row to decide what the message
 * means: a team with no slot free has its task tried again shortly, with no attempt counted
 * and no queue retry spent.
 */
export async function executeTask(
  env: Env,
  message: { taskId: string; teamId: string; run?: ExecutionHint | undefined },
  /** Called once the task is claimed: its lease now keeps it, so the message may go (src/queue/consumer.ts). */
  onClaimed: () => void = () => undefined,
): Promise<Delivery> {
  const { taskId, teamId } = message;
  let hint = message.run;
  if (!hint) {
    // A message from before hints (or from the sweeper): read the task to learn what it needs.
    const row = await loadForExecution(env, taskId);
    if (!row) return ack();
    const arrival = onDelivery(row, Date.now());
    if (arrival.step !== "claim") return apply(env, row, arrival);
    hint = executionHint(row, row.plan);
  }
  const startedAt = new Date();
  const refs = hint.refs;
  // The task acts for the key that created it; the team's key salt comes with the claim.
  const claimCaller = taskContext(env, { id: taskId, apiKeyId: hint.apiKeyId, team: { id: teamId, keySalt: "" } });
  let resolution: ReturnType<typeof prepareResolution> | undefined;
  const slots = { teamId, limit: PLANS[hint.plan].maxParallelCalls };
  const claimed = await claim(env, { id: taskId, timeout_s: hint.timeoutS }, startedAt, slots, (guard) => {
    if (refs.length === 0) return [];
    resolution = prepareResolution(claimCaller, refs, { pinnedByTask: taskId }, guard);
    return [env.DB.prepare("SELECT key_salt FROM teams WHERE id = ?").bind(teamId), ...resolution.statements];
  });
  if (claimed === null) return missedClaim(env, taskId, hint);
  onClaimed();
  const [team, ...resolved] = claimed.alongside;
  const keySalt = (team?.results[0] as { key_salt: string } | undefined)?.key_salt ?? "";
  const task: TaskWithTeam = { ...claimed.row, key_salt: keySalt, plan: hint.plan };
  const caller = taskContext(env, { id: taskId, apiKeyId: hint.apiKeyId, team: { id: teamId, keySalt } }, claimCaller.requestId);
  const headers = JSON.parse(task.headers) as Record<string, string>;
  const headerRefs = referencesIn(headers);
  // The hint names what the headers reference; should it not (it cannot, short of a bug), resolve apart.
  const prepared = resolution && sameSet(refs, headerRefs) ? resolution : undefined;
  const resolve = (): Promise<Resolved> => (prepared ? prepared.read(resolved, caller.team) : resolveReferences(caller, headerRefs, pinnedVersions(task)));
  try {
    const outcome = await attempt(env, task, headers, caller, resolve);
    const step = afterAttempt(task, outcome, Date.now());
    return await apply(env, task, step, { ...attemptEnd(outcome, step), run: task.runs, attempt: task.attempts, startedAt });
  } catch (error) {
    // Hand the task back so a redelivery (or the sweeper) can run it; the queue retries the message.
    await release(env, taskId);
    throw error;
  }
}

/** What a claim that took nothing means: the task is not due, taken, finished, or its team is busy. */
async function missedClaim(env: Env, taskId: string, hint: ExecutionHint): Promise<Delivery> {
  const row = await loadForExecution(env, taskId);
  if (!row) return ack();
  const now = Date.now();
  const arrival = onDelivery(row, now);
  if (arrival.step !== "claim") return apply(env, row, arrival);
  // Another delivery holds it (a duplicate): look again when that lease would run out.
  if (row.status === "processing" && row.lease_until && Date.parse(row.lease_until) >= now) return apply(env, row, onClaimLost(row, now));
  // Claimable (due, or abandoned by a consumer that died), yet not claimed: every one of its
  // team's call slots is taken. Waiting for one spends no queue retry.
  await deferBusy(env, row, BUSY_RETRY_SECONDS, hint);
  return ack();
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && b.every((x) => a.includes(x));

async function attempt(env: Env, task: TaskWithTeam, headers: Record<string, string>, caller: TeamContext, resolve: () => Promise<Resolved>): Promise<AttemptOutcome> {
  let resolved: Resolved;
  try {
    resolved = await resolve();
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
