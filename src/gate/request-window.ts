import { SlidingWindowLog, type RateLimitDecision } from "../ratelimit/sliding-window";

export const RATE_LIMIT_WINDOW_MS = 60_000;
/** Admitted times are mirrored to storage in batches, at most this long after the first one. */
const FLUSH_MS = 1000;

/**
 * The team's request counter: an exact sliding window kept in memory (so no storage write, with
 * its output gate, sits on every request) and mirrored to the object's SQLite storage by an
 * alarm within a second, so an eviction (which only happens when idle) or a deploy does not
 * hand out a fresh window; a crash can forget at most the last second of admissions.
 */
export class RequestWindow {
  private log: SlidingWindowLog | undefined;
  private unflushed: number[] = [];
  private flushScheduled = false;

  constructor(private readonly storage: DurableObjectStorage) {
    storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (t INTEGER NOT NULL)");
  }

  private window(now: number): SlidingWindowLog {
    if (!this.log) {
      const rows = this.storage.sql
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
      this.unflushed.push(now);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.storage.setAlarm(now + FLUSH_MS);
      }
    }
    return decision;
  }

  /** Mirrors the admitted times of the last second to storage and trims what left the window. */
  flush(): void {
    const pending = this.unflushed;
    this.unflushed = [];
    this.flushScheduled = false;
    this.storage.transactionSync(() => {
      for (const t of pending) this.storage.sql.exec("INSERT INTO hits (t) VALUES (?)", t);
      this.storage.sql.exec("DELETE FROM hits WHERE t < ?", Date.now() - RATE_LIMIT_WINDOW_MS);
    });
  }
}
