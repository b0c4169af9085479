import type { Env } from "../env";
import { classifyNetworkError, describeNetworkFailure } from "./network-errors";
import { allowLoopbackTargets, checkOutboundUrl } from "./url-policy";

/**
 * One outbound request that follows no redirect (a 3xx is an answer, handed back as is): the
 * URL policy is checked first, with local development's loopback switch, and a timeout bounds
 * it. For calls whose answer is only meaningful from the host asked (an OAuth token endpoint).
 */
export type FetchOnceOutcome =
  | { kind: "response"; response: Response }
  | { kind: "blocked"; message: string }
  | { kind: "timeout" }
  | { kind: "network"; message: string };

export async function fetchOnce(
  env: Pick<Env, "ALLOW_LOOPBACK_TARGETS" | "ALLOW_PRIVATE_TARGETS">,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  timeoutMs: number,
): Promise<FetchOnceOutcome> {
  const verdict = checkOutboundUrl(url, allowLoopbackTargets(env));
  if (!verdict.ok) return { kind: "blocked", message: `URL ${verdict.reason}` };
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(verdict.url.toString(), { ...init, redirect: "manual", signal });
    return { kind: "response", response };
  } catch (error) {
    if (signal.aborted) return { kind: "timeout" };
    const raw = error instanceof Error ? error.message : "network error";
    return { kind: "network", message: describeNetworkFailure(await classifyNetworkError(raw, verdict.url), verdict.url, raw) };
  }
}
