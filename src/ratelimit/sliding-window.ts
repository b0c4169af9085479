/**
 * An exact sliding-window log: a request is admitted when fewer than `limit` requests were
 * admitted in the `windowMs` before it. Unlike a fixed window (double burst at the edge) or
 * GCRA (a full burst plus a refill inside one window), no span of `windowMs` ever holds more
 * than `limit` admitted requests. Memory is bounded by the largest limit in use.
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the oldest counted request leaves the window (one more slot frees). */
  reset: number;
  /** Seconds to wait before a retry can succeed; 0 when allowed. */
  retryAfter: number;
}

export class SlidingWindowLog {
  /** Admitted request times, ascending. */
  private readonly times: number[] = [];

  constructor(readonly windowMs: number, initial: number[] = []) {
    this.times.push(...[...initial].sort((a, b) => a - b));
  }

  /** Drops times that left the window (a request exactly windowMs old still counts). */
  prune(now: number): number {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] ?? 0) < cutoff) drop++;
    if (drop > 0) this.times.splice(0, drop);
    return drop;
  }

  consume(now: number, limit: number): RateLimitDecision {
    this.prune(now);
    const count = this.times.length;
    if (count < limit) {
      this.times.push(now);
      const oldest = this.times[0] ?? now;
      return {
        allowed: true,
        limit,
        remaining: limit - count - 1,
        reset: Math.ceil((oldest + this.windowMs + 1) / 1000),
        retryAfter: 0,
      };
    }
    // The (count - limit + 1)th oldest must leave before a slot frees (limits can shrink on a plan change).
    const freesAt = (this.times[count - limit] ?? now) + this.windowMs + 1;
    return {
      allowed: false,
      limit,
      remaining: 0,
      reset: Math.ceil(freesAt / 1000),
      retryAfter: Math.max(1, Math.ceil((freesAt - now) / 1000)),
    };
  }

  get size(): number {
    return this.times.length;
  }
}
