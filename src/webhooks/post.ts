import type { TeamContext } from "../context";
import { allowLoopbackTargets } from "../outbound/url-policy";
import { callOut, type CallOutcome } from "../tasks/http-call";
import { signingSecrets } from "./secret";
import { signatureHeader, standardHeaders } from "./signature";

/** How long a receiver has to answer an event. */
const WEBHOOK_TIMEOUT_MS = 10_000;

/** The deprecated `X-Signature` header is sent unless LEGACY_WEBHOOK_SIGNATURE is "false" (one release). */
export const legacySignatureEnabled = (env: TeamContext["env"]) => env.LEGACY_WEBHOOK_SIGNATURE !== "false";

/**
 * POSTs one event (task completions, proposal events) to a receiver, signed per Standard
 * Webhooks with the team's secret (and, during a rotation's grace period, the replaced one
 * too), plus the legacy header while it lasts. `messageId` is the `webhook-id` receivers dedupe
 * on. The signatures are credentials of the request: an echo of them is redacted like one.
 */
export async function postSignedEvent(
  ctx: TeamContext,
  event: { url: string; messageId: string; type: string; body: string; headers?: Record<string, string> },
): Promise<CallOutcome> {
  const secrets = await signingSecrets(ctx);
  const timestamp = Math.floor(Date.now() / 1000);
  return callOut({
    method: "POST",
    url: event.url,
    headers: {
      "content-type": "application/json",
      "user-agent": "token-vault-webhooks/1",
      ...(await standardHeaders(secrets.all, event.messageId, event.body, timestamp)),
      ...(legacySignatureEnabled(ctx.env) ? { "x-signature": await signatureHeader(secrets.current, event.body, timestamp) } : {}),
      "x-webhook-event": event.type,
      ...event.headers,
    },
    credentialHeaders: ["webhook-signature", "x-signature"],
    body: event.body,
    timeoutMs: WEBHOOK_TIMEOUT_MS,
    allowLoopback: allowLoopbackTargets(ctx.env),
  });
}
