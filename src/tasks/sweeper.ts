import type { Env } from "../env";
import { log } from "../log";
import type { QueueMessage } from "../queue/messages";
import { requeueStalled } from "./transitions";

/**
 * Self-healing for lost steps, run by the cron trigger. Queue messages can be lost between a
 * D1 write and a send, or a consumer can die mid-step; this re-enqueues the next step of any
 * task that has waited much longer than it should. Every step re-checks its task's state, so a
 * message sent here for a task that is in fact fine does nothing.
 */
const GRACE_SECONDS = 300;
/**
 * A due task nobody has touched for this long has lost its message (a crash between the D1
 * write and the send, or a local queue that died with the process): with the cron every minute,
 * such a task is sent again within 30-90 s. A task waiting for its team's call slot is touched
 * at every turn (transitions.deferBusy), so a busy team's backlog is not duplicated.
 */
export const LOST_RUN_SECONDS = 30;
const BATCH = 100;
/**
 * The condition of the partial index tasks_active (migrations/0003), written out as the index
 * has it: SQLite uses a partial index only for a query that repeats its WHERE term.
 */
const ACTIVE = "status IN ('pending', 'delayed', 'processing', 'polling')";

export async function sweepStalledTasks(env: Env, now = Date.now()): Promise<number> {
  const at = new Date(now).toISOString();
  const stale = new Date(now - GRACE_SECONDS * 1000).toISOString();
  const lost = new Date(now - LOST_RUN_SECONDS * 1000).toISOString();
  const [lostRuns, expiredLeases, stalledPolls, pendingWebhooks] = await env.DB.batch<{ id: string; team_id: string; polls: number | null }>([
    // Due a while ago but never picked up.
    env.DB.prepare(`SELECT id, team_id, NULL AS polls FROM tasks WHERE ${ACTIVE} AND status IN ('pending', 'delayed') AND updated_at < ? AND run_at < ? LIMIT ?`).bind(lost, lost, BATCH),
    // Claimed by a consumer that never finished.
    env.DB.prepare(`SELECT id, team_id, NULL AS polls FROM tasks WHERE ${ACTIVE} AND status = 'processing' AND lease_until < ? LIMIT ?`).bind(at, BATCH),
    // Polling with no poll for much longer than its interval.
    env.DB
      .prepare(
        `SELECT id, team_id, json_extract(poll_state, '$.polls') AS polls FROM tasks
         WHERE ${ACTIVE} AND status = 'polling' AND updated_at < datetime(?, '-' || (COALESCE(json_extract(poll_config, '$.interval'), 5) + ${GRACE_SECONDS}) || ' seconds') LIMIT ?`,
      )
      .bind(at, BATCH),
    // Final, with a webhook still owed.
    env.DB.prepare("SELECT id, team_id, NULL AS polls FROM tasks WHERE webhook_status = 'pending' AND updated_at < ? LIMIT ?").bind(stale, BATCH),
  ]);
  const messages: MessageSendRequest<QueueMessage>[] = [
    ...(lostRuns?.results ?? []).map((r) => ({ body: { type: "task.execute" as const, taskId: r.id, teamId: r.team_id } })),
    ...(expiredLeases?.results ?? []).map((r) => ({ body: { type: "task.execute" as const, taskId: r.id, teamId: r.team_id } })),
    ...(stalledPolls?.results ?? []).map((r) => ({ body: { type: "task.poll" as const, taskId: r.id, teamId: r.team_id, poll: r.polls ?? 0 } })),
    ...(pendingWebhooks?.results ?? []).map((r) => ({ body: { type: "webhook.deliver" as const, taskId: r.id, teamId: r.team_id } })),
  ];
  if (messages.length === 0) return 0;
  // Touched as well, so the next sweep gives the re-sent step time to run.
  await requeueStalled(env, messages, new Date(now));
  log.warn("tasks_swept", { count: messages.length });
  return messages.length;
}
