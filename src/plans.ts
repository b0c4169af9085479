/** The one table of plan limits (seed 002), used everywhere a limit applies. */
export const PLANS = {
  free: { rateLimitPerMinute: 60, maxApiKeys: 1, maxMembers: 2, maxWaitSeconds: 30 },
  pro: { rateLimitPerMinute: 600, maxApiKeys: Infinity, maxMembers: Infinity, maxWaitSeconds: 120 },
} as const;

export type Plan = keyof typeof PLANS;
export const PLAN_NAMES = Object.keys(PLANS) as [Plan, ...Plan[]];

export function planLimits(plan: Plan) {
  return PLANS[plan];
}
