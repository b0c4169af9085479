import { taskContext } from "../context";
import type { Env } from "../env";
import { ack, type Delivery } from "../queue/messages";
import { afterWebhookAttempt, onWebhookDelivery, type WebhookOutcome } from "../tasks/decide";
import { taskView, type TaskRow } from "../tasks/model";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import { apply, recordWebhookAttempt } from "../tasks/transitions";
import { postSignedEvent } from "./post";


/**
 * The delivery's `webhook-id`: the same for every retry of one completion (receivers dedupe
 * on it), a new one when POST /v1/tasks/:id/retry runs the task again.
 */
export const webhookMessageId = (row: Pick<TaskRow, "id" | "runs">) => `msg_${row.id.replace(/^task_/, "")}_${row.runs}`;

/**
 * POSTs `{"event", "task"}` to the task's onCompleteUrl, signed per Standard Webhooks with the
 * team's secret (and, during a rotation's grace period, the replaced one too). The
 * task view holds references and redacted results only, never a resolved secret. Whether to
 * send, and what an answer means, is decided in tasks/decide.ts.
 */
export async function deliverWebhook(env: Env, taskId: string): Promise<Delivery> {
  const row = await env.DB.prepare("SELECT t.*, tm.key_salt FROM tasks t JOIN teams tm ON tm.id = t.team_id WHERE t.id = ?").bind(taskId).first<TaskRow & { key_salt: string }>();
  if (!row) return ack();
  const next = onWebhookDelivery(row);
  if (next.step !== "deliver") return apply(env, row, next);
  const { url } = next;
  const verdict = checkOutboundUrl(url, allowLoopbackTargets(env));
  let outcome: WebhookOutcome;
  if (!verdict.ok) {
    outcome = { kind: "refused", reason: verdict.reason };
  } else {
    const ctx = taskContext(env, { id: row.id, apiKeyId: row.api_key_id, team: { id: row.team_id, keySalt: row.key_salt } });
    const body = JSON.stringify({ event: next.event, task: taskView(row) });
    const answer = await postSignedEvent(ctx, { url, messageId: webhookMessageId(row), type: next.event, body, headers: { "x-task-id": row.id } });
    outcome = answer.kind === "response" ? { kind: "response", status: answer.status } : { kind: answer.kind };
  }
  return recordWebhookAttempt(env, taskId, afterWebhookAttempt(next.attempt, outcome));
}
