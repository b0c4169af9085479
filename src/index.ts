/**
 * Token Vault Worker: the table of contents.
 *  - fetch: the HTTP API (routes/index.ts lists every route), and the agent gateway's proxy
 *    (/proxy/{host}/... and /s/{service}/..., gateway/proxy.ts: any method, streamed bodies,
 *    served outside the JSON route table but answering errors through the same translator)
 *  - queue: the tasks consumer (and its dead-letter queue)
 *  - scheduled: the sweepers (stalled task steps; expiries and version retirements in the vault), then the retention purge
 *  - TeamGate: the team's Durable Object (API-key cache, revocations, request counter)
 *  - LoginThrottle: the Durable Object limiting login and sign-up attempts
 *  - OAuthRefresher: one Durable Object per OAuth credential (single-flight and proactive refresh)
 *  - /_dev/: a local stand-in for third-party APIs, only with ENVIRONMENT=development (dev/target.ts)
 *  - /portal: the server-rendered portal (portal/routes.ts lists its pages)
 */
import { devTarget, isDevTargetRequest } from "./dev/target";
import type { Env } from "./env";
import { isProxyPath } from "./gateway/ingress";
import { handleProxy } from "./gateway/proxy";
import { createApp } from "./http/app";
import { createPortal, isPortalRequest } from "./portal/app";
import { portalRoutes } from "./portal/routes";
import { handleQueue } from "./queue/consumer";
import type { QueueMessage } from "./queue/messages";
import { routes } from "./routes";
import { expireProposals } from "./proposals/expiry";
import { purgeExpired } from "./retention/retention";
import { sweepStalledTasks } from "./tasks/sweeper";
import { sweepVault } from "./vault/sweeper";

export { LoginThrottle } from "./auth/login-throttle";
export { TeamGate } from "./gate/team-gate";
export { OAuthRefresher } from "./oauth/refresher";

const app = createApp(routes);
const portal = createPortal(portalRoutes);

export default {
  fetch: (request, env, exec) =>
    isDevTargetRequest(request, env)
      ? devTarget(request)
      : isProxyPath(new URL(request.url).pathname)
        ? handleProxy(request, env, exec)
        : isPortalRequest(new URL(request.url))
          ? portal(request, env, exec)
          : app(request, env, exec),
  // Without a ctx (tests driving one batch by hand) every step is awaited to its end.
  queue: (batch, env, ctx?: ExecutionContext) => handleQueue(batch, env, ctx),
  scheduled: async (_controller, env) => {
    await sweepStalledTasks(env);
    await sweepVault(env);
    await expireProposals(env);
    // Bounded (a few statements of at most 500 rows); a backlog is worked off over the next runs.
    await purgeExpired(env);
  },
} satisfies ExportedHandler<Env, QueueMessage>;
