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
 * How long a step may hold its message before the consumer lets go of it. Outcomes of a batch
 * reach the queue only when the handler returns (the local queue also runs one batch at a
 * time), so a step still running after this is handed off: its message is acked, the step
 * finishes under waitUntil, and what it asks of the message is done by sending a new one.
 * Its task is not at risk meanwhile: the claim's lease in D1 (which is also its call slot) expires if
 * this consumer dies, and the sweeper picks the task up again.
 *
 * A task's execution is handed off sooner, as soon as it has claimed its task: from then on
 * the claim (not the message) is what keeps it alive, so holding the message through the
 * outbound call would only hold back the batch, and with it the next one (issue 15).
 */
export const HANDOFF_MS = 1000;

/**
 * Queue consumer: each message is one step of a task (execute, poll, webhook). Every message
 * is acked or retried on its own, as soon as its step says (inside its own promise); an
 * unexpected error retries with a delay, and a message that keeps failing reaches the
 * dead-letter queue, whose consumer marks its task failed. A slow step never holds back its
 * batch: past HANDOFF_MS it continues detached (see above), so one team's hanging target does
 * not delay another team's message (issue 9, finding 3).
 */
export async function handleQueue(batch: MessageBatch<QueueMessage>, env: Env, ctx?: Pick<ExecutionContext, "waitUntil">): Promise<void> {
  const deadLetters = batch.queue === DEAD_LETTER_QUEUE;
  await Promise.all(
    batch.messages.map(async (message) => {
      let handOff: () => void = () => undefined;
      const handedOff = new Promise<"pending">((resolve) => (handOff = () => resolve("pending")));
      const step = deadLetters ? handleDeadLetter(env, message.body) : runStep(env, message.body, handOff);
      const settled = await settleWithin(step, ctx ? HANDOFF_MS : Infinity, ctx ? handedOff : undefined);
      if (settled === "pending") {
        message.ack();
        ctx?.waitUntil(
          step.then(
            (delivery) => (delivery.action === "retry" ? env.TASKS.send(message.body, { delaySeconds: delivery.delaySeconds }) : undefined),
            // The step released its task (or left it to its lease): the sweeper sends it on again.
            (error: unknown) => logFailure(batch.queue, message, error, true),
          ),
        );
      } else if ("error" in settled) {
        logFailure(batch.queue, message, settled.error, false);
        message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
      } else if (settled.delivery.action === "retry") {
        message.retry({ delaySeconds: settled.delivery.delaySeconds });
      } else {
        message.ack();
      }
    }),
  );
}

type Settled = { delivery: Delivery } | { error: unknown } | "pending";

/** The step's outcome if it settles within `ms` (and before it hands off), else "pending" (the step keeps running). */
async function settleWithin(step: Promise<Delivery>, ms: number, handedOff?: Promise<"pending">): Promise<Settled> {
  const outcome = step.then(
    (delivery): Settled => ({ delivery }),
    (error: unknown): Settled => ({ error }),
  );
  if (ms === Infinity) return outcome;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<Settled>((resolve) => (timer = setTimeout(() => resolve("pending"), ms)));
  try {
    return await Promise.race([outcome, late, ...(handedOff ? [handedOff] : [])]);
  } finally {
    clearTimeout(timer);
  }
}

function logFailure(queue: string, message: Message<QueueMessage>, error: unknown, detached: boolean): void {
  log.error("queue_step_failed", {
    queue,
    messageId: message.id,
    type: message.body?.type,
    taskId: message.body?.taskId,
    attempts: message.attempts,
    detached,
    errorName: error instanceof Error ? error.name : typeof error,
  });
}

function runStep(env: Env, body: QueueMessage, handOff: () => void): Promise<Delivery> {
  switch (body?.type) {
    case "task.execute":
      return executeTask(env, body, handOff);
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
