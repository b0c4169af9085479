import type { Env } from "../env";
import { log } from "../log";
import { onDeadLetter } from "../tasks/decide";
import { executeTask } from "../tasks/execute";
import type { TaskRow } from "../tasks/model";
import { pollTask } from "../tasks/poll";
import { apply, deadLetterWebhook } from "../tasks/transitions";
import { deliverWebhook } from "../webhooks/deliver";
import { ack, type Delivery, type QueueMessage } from "./messages";

export const DEAD_LETTER_QUEUE = "token-vault-tasks-dlq";

/**
 * Queue consumer: each message is one step of a task (execute, poll, webhook). Every message
 * is acked or retried on its own, as its step says; an unexpected error retries with a delay,
 * and a message that keeps failing reaches the dead-letter queue, whose consumer marks its
 * task failed.
 */
export async function handleQueue(batch: MessageBatch<QueueMessage>, env: Env): Promise<void> {
  const deadLetters = batch.queue === DEAD_LETTER_QUEUE;
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        const delivery = deadLetters ? await handleDeadLetter(env, message.body) : await runStep(env, message.body);
        if (delivery.action === "retry") message.retry({ delaySeconds: delivery.delaySeconds });
        else message.ack();
      } catch (error) {
        log.error("queue_step_failed", {
          queue: batch.queue,
          messageId: message.id,
          type: message.body?.type,
          taskId: message.body?.taskId,
          attempts: message.attempts,
          errorName: error instanceof Error ? error.name : typeof error,
        });
        message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
      }
    }),
  );
}

function runStep(env: Env, body: QueueMessage): Promise<Delivery> {
  switch (body?.type) {
    case "task.execute":
      return executeTask(env, body.taskId);
    case "task.poll":
      return pollTask(env, body.taskId, body.poll);
    case "webhook.deliver":
      return deliverWebhook(env, body.taskId);
    default:
      log.warn("queue_message_unknown", { type: String((body as { type?: unknown } | undefined)?.type) });
      return Promise.resolve(ack());
  }
}

async function handleDeadLetter(env: Env, body: QueueMessage): Promise<Delivery> {
  const row = body?.taskId ? await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(body.taskId).first<TaskRow>() : null;
  if (!row) return ack();
  if (body.type === "webhook.deliver") await deadLetterWebhook(env, row.id);
  else {
    const step = onDeadLetter();
    // A task that died mid-attempt: its open attempt ends with the task's error.
    const ended = row.status === "processing" ? { run: row.runs, attempt: row.attempts, statusCode: null, error: step.error } : undefined;
    await apply(env, row, step, ended);
  }
  log.warn("dead_letter", { taskId: row.id, type: body.type });
  return ack();
}
