import type { RateLimitDecision } from "../ratelimit/sliding-window";

/** The rate-limit response headers of seed 002, from any limiter's decision. */
export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(decision.limit),
    "X-RateLimit-Remaining": String(decision.remaining),
    "X-RateLimit-Reset": String(decision.reset),
  };
  if (!decision.allowed) headers["Retry-After"] = String(decision.retryAfter);
  return headers;
}
