import type { Env } from "../env";
import { log } from "../log";
import type { QueueMessage } from "./messages";

/**
 * Queue consumer entry. Tasks (their execution, retries and dead-lettering) build on the vault
 * core; until a message type has a handler, it is dead-lettered rather than silently acked.
 */
export async function handleQueue(batch: MessageBatch<QueueMessage>, _env: Env): Promise<void> {
  for (const message of batch.messages) {
    log.warn("queue_message_unhandled", { queue: batch.queue, messageId: message.id, type: message.body?.type });
    message.retry({ delaySeconds: 60 });
  }
}
