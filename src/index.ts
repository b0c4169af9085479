/**
 * Token Vault Worker: the table of contents.
 *  - fetch: the HTTP API (routes/index.ts lists every route)
 *  - queue: the tasks consumer (and its dead-letter queue)
 *  - scheduled: the sweeper that re-enqueues stalled task steps
 *  - TeamRateLimiter: the per-team rate limit Durable Object
 */
import type { Env } from "./env";
import { createApp } from "./http/app";
import { handleQueue } from "./queue/consumer";
import type { QueueMessage } from "./queue/messages";
import { routes } from "./routes";
import { sweepStalledTasks } from "./tasks/sweeper";

export { TeamRateLimiter } from "./ratelimit/limiter";

const app = createApp(routes);

export default {
  fetch: app,
  queue: (batch, env) => handleQueue(batch, env),
  scheduled: async (_controller, env) => {
    await sweepStalledTasks(env);
  },
} satisfies ExportedHandler<Env, QueueMessage>;
