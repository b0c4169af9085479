import type { RateLimitDecision } from "./sliding-window";

/**
 * Limits on one target (e.g. an account's login) attempted from several sources (client
 * addresses): each source gets `perSource` attempts per window, and all sources together are
 * stopped once they have spent `ceiling`, where a source spends at most `sharePerSource` of it.
 * One noisy source therefore exhausts only its own allowance and can never stop the others on
 * its own; only several sources together (a distributed attack) reach the ceiling.
 */
export interface SharedLimit {
  perSource: number;
  sharePerSource: number;
  ceiling: number;
}

/** The same limit for every source, with no sharing: a plain sliding window. */
export const plainLimit = (limit: number): SharedLimit => ({ perSource: limit, sharePerSource: limit, ceiling: limit });

export interface Attempt {
  t: number;
  source: string;
}

/** An exact sliding-window log of admitted attempts by source. Pure: no I/O, no clock. */
export class PerSourceWindow {
  /** Admitted attempts, ascending by time. */
  private readonly attempts: Attempt[] = [];

  constructor(readonly windowMs: number, initial: Attempt[] = []) {
    this.attempts.push(...[...initial].sort((a, b) => a.t - b.t));
  }

  /** Drops attempts that left the window (one exactly windowMs old still counts). */
  prune(now: number): void {
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < this.attempts.length && (this.attempts[drop]?.t ?? 0) < cutoff) drop++;
    if (drop > 0) this.attempts.splice(0, drop);
  }

  consume(now: number, source: string, rule: SharedLimit): RateLimitDecision {
    this.prune(now);
    const counts = new Map<string, number>();
    for (const a of this.attempts) counts.set(a.source, (counts.get(a.source) ?? 0) + 1);
    const fromSource = counts.get(source) ?? 0;
    let spent = 0;
    for (const count of counts.values()) spent += Math.min(count, rule.sharePerSource);

    let freesAt = 0;
    if (fromSource >= rule.perSource) {
      // The (fromSource - perSource + 1)th oldest attempt of this source must leave first.
      const own = this.attempts.filter((a) => a.source === source);
      freesAt = Math.max(freesAt, (own[fromSource - rule.perSource]?.t ?? now) + this.windowMs + 1);
    }
    if (spent >= rule.ceiling) freesAt = Math.max(freesAt, this.ceilingFreesAt(counts, spent, rule, now));
    const oldest = this.attempts[0]?.t ?? now;
    const limit = Math.min(rule.perSource, rule.ceiling);
    if (freesAt > 0) {
      return { allowed: false, limit, remaining: 0, reset: Math.ceil(freesAt / 1000), retryAfter: Math.max(1, Math.ceil((freesAt - now) / 1000)) };
    }
    this.attempts.push({ t: now, source });
    const spends = fromSource < rule.sharePerSource ? 1 : 0;
    return {
      allowed: true,
      limit,
      remaining: Math.max(0, Math.min(rule.perSource - fromSource - 1, rule.ceiling - spent - spends)),
      reset: Math.ceil((oldest + this.windowMs + 1) / 1000),
      retryAfter: 0,
    };
  }

  /** When, as attempts leave the window oldest first, the spent share drops below the ceiling. */
  private ceilingFreesAt(counts: Map<string, number>, spent: number, rule: SharedLimit, now: number): number {
    const left = new Map(counts);
    let total = spent;
    for (const a of this.attempts) {
      const count = left.get(a.source) ?? 0;
      // Removing one of a source's attempts lowers what it spends only once it is within its share.
      if (count <= rule.sharePerSource) total--;
      left.set(a.source, count - 1);
      if (total < rule.ceiling) return a.t + this.windowMs + 1;
    }
    return now + this.windowMs + 1;
  }

  get size(): number {
    return this.attempts.length;
  }
}
