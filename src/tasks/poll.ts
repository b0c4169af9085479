import type { Env } from "../env";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import { ack, type Delivery } from "../queue/messages";
import { freshenOAuthValues, OAuthUnavailableError } from "../oauth/inject";
import { resolveReferences, TokenUnavailableError, type Resolved } from "../vault/tokens";
import { afterResultFetch, afterStatusFetch, onPollDelivery, type Fetch, type FetchOutcome, type Step } from "./decide";
import { callerFor, hostCheck, loadForExecution, oauthOutcome, observe, pinnedVersions, type TaskWithTeam } from "./execute";
import { callOut } from "./http-call";
import { mayForwardCredentials } from "./providers";
import { credentialHeaderNames, referencesIn, substitute } from "./references";
import { apply } from "./transitions";

/**
 * One poll step of a polling task (a task.poll message): the status request, then the result
 * request once the provider is done. decide.ts reads the answers; transitions.ts schedules the
 * next poll as a delayed message or finishes the task.
 */
export async function pollTask(env: Env, taskId: string, expectedPolls?: number): Promise<Delivery> {
  const row = await loadForExecution(env, taskId);
  if (!row) return ack();
  let step: Step | Fetch = onPollDelivery(row, expectedPolls, Date.now());
  if (step.step === "fetch") step = afterStatusFetch(row, await fetchWithPolicy(env, row, step));
  if (step.step === "fetch") step = afterResultFetch(row, await fetchWithPolicy(env, row, step));
  return apply(env, row, step);
}

/**
 * A GET on behalf of a polling task. Credentials go only where forwardAuth and the origin rule
 * allow; the task's secrets are resolved either way, so that an answer echoing one is redacted.
 */
async function fetchWithPolicy(env: Env, row: TaskWithTeam, { url, forwardAuth }: Fetch): Promise<FetchOutcome> {
  const verdict = checkOutboundUrl(url, allowLoopbackTargets(env));
  if (!verdict.ok) return { kind: "blocked", message: verdict.reason };
  const submitted = JSON.parse(row.headers) as Record<string, string>;
  const credentialNames = credentialHeaderNames(submitted);
  const forward = forwardAuth && mayForwardCredentials(row.target_url, url, row.provider ?? undefined);
  const credentialHeaders = forward ? Object.fromEntries(Object.entries(submitted).filter(([name]) => credentialNames.includes(name.toLowerCase()))) : {};
  let resolved: Resolved;
  try {
    // The versions fixed at creation: a rotation never mixes keys inside one task.
    const caller = callerFor(env, row);
    resolved = await resolveReferences(caller, referencesIn(submitted), pinnedVersions(row));
    await freshenOAuthValues(caller, resolved);
  } catch (error) {
    if (error instanceof TokenUnavailableError) return { kind: "references_unavailable", tokenIds: error.tokenIds };
    if (error instanceof OAuthUnavailableError) return oauthOutcome(error);
    throw error;
  }
  const values = resolved.values;
  const secrets = [...values.values()];
  const outcome = await callOut({
    // Only a request that carries the credentials must stay on their hosts.
    ...(forward ? { credentialsAllowedAt: hostCheck(resolved) } : {}),
    method: "GET",
    url,
    headers: { accept: "application/json", ...substitute(credentialHeaders, values) },
    credentialHeaders: credentialNames,
    timeoutMs: row.timeout_s * 1000,
    allowLoopback: allowLoopbackTargets(env),
  });
  values.clear();
  return observe(outcome, secrets);
}
