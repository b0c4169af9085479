/**
 * The one table of plan limits (seed 002), used everywhere a limit applies.
 *
 * `maxParallelCalls`: the team's outbound task calls in flight at once (counted exactly by the
 * task claim in D1, src/tasks/transitions.ts), so one team's hanging targets cannot hold every consumer. Sized
 * so a team with healthy targets never feels it: a Free team may create 60 tasks a minute, and
 * 5 slots run 300 one-second calls a minute; a Pro team 600, and 50 slots run 3,000. A team whose
 * targets all hang at the plan's longest timeout still gets 5 x 60/30 = 10 (Free) and
 * 50 x 60/120 = 25 (Pro) calls a minute through, and never more than its slots at once.
 *
 * `taskRetentionDays`: finished tasks (with their attempts and stored results) are deleted this
 * long after their last change, by the cron (src/retention/retention.ts); decided proposals
 * (approved, rejected, expired) and ended leases (revoked or expired) this long after they ended:
 * records of what was done, kept as long as the tasks that did things.
 *
 * `requestLogRetentionDays`: rows of the proxy's request log (metadata of proxied calls) are
 * deleted this long after the call. The operator's PROXY_LOG_RETENTION_DAYS can only shorten it.
 */
export const PLANS = {
  free: { rateLimitPerMinute: 60, maxApiKeys: 1, maxMembers: 2, maxWaitSeconds: 30, maxParallelCalls: 5, taskRetentionDays: 7, requestLogRetentionDays: 7 },
  pro: { rateLimitPerMinute: 600, maxApiKeys: Infinity, maxMembers: Infinity, maxWaitSeconds: 120, maxParallelCalls: 50, taskRetentionDays: 30, requestLogRetentionDays: 30 },
} as const;

export type Plan = keyof typeof PLANS;
export const PLAN_NAMES = Object.keys(PLANS) as [Plan, ...Plan[]];

export function planLimits(plan: Plan) {
  return PLANS[plan];
}
