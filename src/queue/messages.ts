/**
 * Messages on the tasks queue. Each carries ids only (never a header value or a secret), so
 * a message read off the queue or the dead-letter queue reveals nothing.
 */
export type QueueMessage =
  | { type: "task.execute"; taskId: string; teamId: string; run?: ExecutionHint }
  | { type: "task.poll"; taskId: string; teamId: string; poll?: number }
  | { type: "webhook.deliver"; taskId: string; teamId: string };

/** What a step asks of the consumer for its message: done, or deliver it again after a delay. */
export type Delivery = { action: "ack" } | { action: "retry"; delaySeconds: number };
export const ack = (): Delivery => ({ action: "ack" });
export const retry = (delaySeconds: number): Delivery => ({ action: "retry", delaySeconds });

/**
 * What a consumer needs to claim a task without reading it first (src/tasks/execute.ts): its
 * team's plan (the parallel-calls limit), its timeout (the claim's lease) and the ids it
 * references, with the key that created it (whose assignments the resolution checks). Ids and
 * figures only. The claim and the resolution read the task's row themselves, so a hint can
 * never make a task run as something it is not; the one figure taken from it as is, the plan,
 * is the plan at creation (a team that changes plan applies the new limit to new messages).
 */
export interface ExecutionHint {
  plan: "free" | "pro";
  timeoutS: number;
  apiKeyId: string;
  refs: string[];
}
