import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { SlidingWindowLog, type RateLimitDecision } from "./sliding-window";

export const RATE_LIMIT_WINDOW_MS = 60_000;

/**
 * One Durable Object per team counts the requests of all the team's keys (seed 002). A DO
 * runs one call at a time, so the count is exact under any concurrency. Admitted times are
 * kept in memory and mirrored to the object's SQLite storage, so an eviction or a deploy does
 * not hand out a fresh window.
 */
export class TeamRateLimiter extends DurableObject<Env> {
  private log: SlidingWindowLog | undefined;
  private writesSincePrune = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (t INTEGER NOT NULL)");
  }

  private window(now: number): SlidingWindowLog {
    if (!this.log) {
      const rows = this.ctx.storage.sql
        .exec<{ t: number }>("SELECT t FROM hits WHERE t >= ? ORDER BY t", now - RATE_LIMIT_WINDOW_MS)
        .toArray();
      this.log = new SlidingWindowLog(RATE_LIMIT_WINDOW_MS, rows.map((r) => r.t));
    }
    return this.log;
  }

  /** Counts one request against `limit` per minute. */
  consume(limit: number): RateLimitDecision {
    const now = Date.now();
    const decision = this.window(now).consume(now, limit);
    if (decision.allowed) {
      this.ctx.storage.sql.exec("INSERT INTO hits (t) VALUES (?)", now);
      // Trim the mirror now and then rather than on every write.
      if (++this.writesSincePrune >= 64) {
        this.writesSincePrune = 0;
        this.ctx.storage.sql.exec("DELETE FROM hits WHERE t < ?", now - RATE_LIMIT_WINDOW_MS);
      }
    }
    return decision;
  }
}

/** The typed client the request path uses. */
export function rateLimiterFor(env: Pick<Env, "RATE_LIMITER">, teamId: string) {
  const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(teamId));
  return {
    consume: (limit: number): Promise<RateLimitDecision> => stub.consume(limit),
  };
}

export function rateLimitHeaders(decision: RateLimitDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "X-RateLimit-Limit": String(decision.limit),
    "X-RateLimit-Remaining": String(decision.remaining),
    "X-RateLimit-Reset": String(decision.reset),
  };
  if (!decision.allowed) headers["Retry-After"] = String(decision.retryAfter);
  return headers;
}
