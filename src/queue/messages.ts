/**
 * Messages on the tasks queue. Each carries ids only (never a header value or a secret), so
 * a message read off the queue or the dead-letter queue reveals nothing.
 */
export type QueueMessage =
  | { type: "task.execute"; taskId: string; teamId: string }
  | { type: "task.poll"; taskId: string; teamId: string; poll?: number }
  | { type: "webhook.deliver"; taskId: string; teamId: string };

/** What a step asks of the consumer for its message: done, or deliver it again after a delay. */
export type Delivery = { action: "ack" } | { action: "retry"; delaySeconds: number };
export const ack = (): Delivery => ({ action: "ack" });
export const retry = (delaySeconds: number): Delivery => ({ action: "retry", delaySeconds });
