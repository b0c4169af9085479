import { taskContext } from "../context";
import type { Env } from "../env";
import { log } from "../log";
import { callOut } from "../tasks/http-call";
import { isFinal, taskView, type TaskRow } from "../tasks/model";
import type { StepResult } from "../tasks/runner";
import { allowPrivateTargets } from "../tasks/service";
import { checkOutboundUrl } from "../tasks/ssrf";
import { webhookSecret } from "./secret";
import { signatureHeader } from "./signature";

export const MAX_WEBHOOK_ATTEMPTS = 5;
const WEBHOOK_TIMEOUT_MS = 10_000;

const EVENTS = { completed: "task.completed", failed: "task.failed", timeout: "task.timeout" } as const;

/**
 * POSTs `{"event", "task"}` to the task's onCompleteUrl, signed with the team's secret. The
 * task view holds references and redacted results only, never a resolved secret.
 */
export async function deliverWebhook(env: Env, taskId: string): Promise<StepResult> {
  const row = await env.DB.prepare("SELECT t.*, tm.key_salt FROM tasks t JOIN teams tm ON tm.id = t.team_id WHERE t.id = ?").bind(taskId).first<TaskRow & { key_salt: string }>();
  if (!row || !row.on_complete_url) return { ack: true };
  // Queued just before the task's final state was written: wait for it.
  if (row.webhook_status === null && !isFinal(row.status)) return { retryAfterSeconds: 5 };
  if (row.webhook_status !== "pending") return { ack: true };
  const event = EVENTS[row.status as keyof typeof EVENTS];
  if (!event) return { ack: true };
  const attempt = row.webhook_attempts + 1;
  const verdict = checkOutboundUrl(row.on_complete_url, allowPrivateTargets(env));
  let error: string | null = verdict.ok ? null : `onCompleteUrl ${verdict.reason}`;
  if (verdict.ok) {
    const body = JSON.stringify({ event, task: taskView(row) });
    const { secret } = await webhookSecret(taskContext(env, { id: row.id, apiKeyId: row.api_key_id, team: { id: row.team_id, keySalt: row.key_salt } }));
    const outcome = await callOut({
      method: "POST",
      url: row.on_complete_url,
      headers: {
        "content-type": "application/json",
        "user-agent": "token-vault-webhooks/1",
        "x-signature": await signatureHeader(secret, body),
        "x-webhook-event": event,
        "x-task-id": row.id,
      },
      credentialHeaders: ["x-signature"],
      body,
      timeoutMs: WEBHOOK_TIMEOUT_MS,
      allowPrivate: allowPrivateTargets(env),
    });
    if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300) error = null;
    else error = outcome.kind === "response" ? `Webhook endpoint answered ${outcome.status}` : `Webhook delivery failed (${outcome.kind})`;
  }
  const final = error === null || attempt >= MAX_WEBHOOK_ATTEMPTS || !verdict.ok;
  await env.DB
    .prepare("UPDATE tasks SET webhook_status = ?, webhook_attempts = ?, webhook_error = ?, updated_at = ? WHERE id = ? AND webhook_status = 'pending'")
    .bind(error === null ? "delivered" : final ? "failed" : "pending", attempt, error, new Date().toISOString(), taskId)
    .run();
  if (error !== null) log.warn("webhook_failed", { taskId, attempt, final });
  return final ? { ack: true } : { retryAfterSeconds: 2 ** attempt };
}
