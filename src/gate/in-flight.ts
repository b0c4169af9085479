/**
 * The team's in-flight outbound calls, counted exactly against the plan's parallelism limit
 * (issue 9, finding 3). Each slot is a row in the object's SQLite storage, so an eviction or a
 * restart of the object never hands out a fresh count; each has a lease, so a consumer that
 * dies holding one (a crash, a cut-off waitUntil) cannot leak it: it expires with the lease,
 * which the caller sets to the call's timeout plus a margin.
 */
export interface SlotGrant {
  granted: boolean;
  /** Slots held after this decision (including the new one when granted). */
  inFlight: number;
  limit: number;
}

export class InFlightCalls {
  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS in_flight (holder TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** Takes a slot for `holder` unless `limit` slots are held; expired leases are dropped first. */
  acquire(holder: string, limit: number, leaseMs: number, now: number): SlotGrant {
    this.sql.exec("DELETE FROM in_flight WHERE expires_at <= ?", now);
    const held = this.count();
    if (held >= limit) return { granted: false, inFlight: held, limit };
    this.sql.exec("INSERT OR REPLACE INTO in_flight (holder, expires_at) VALUES (?, ?)", holder, now + leaseMs);
    return { granted: true, inFlight: this.count(), limit };
  }

  /** Gives a slot back (a no-op if its lease already ran out). */
  release(holder: string): void {
    this.sql.exec("DELETE FROM in_flight WHERE holder = ?", holder);
  }

  /** Slots held now (leases not yet expired). */
  held(now: number): number {
    this.sql.exec("DELETE FROM in_flight WHERE expires_at <= ?", now);
    return this.count();
  }

  private count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM in_flight").one().n;
  }
}
