import { DurableObject } from "cloudflare:workers";
import { loadKeyRecord, type KeyRecord } from "../auth/apikeys";
import type { Env } from "../env";
import { PLANS } from "../plans";
import { SlidingWindowLog, type RateLimitDecision } from "./sliding-window";

export const RATE_LIMIT_WINDOW_MS = 60_000;
/** How long a cached key record is trusted before D1 is asked again (revocations do not wait for it). */
const KEY_CACHE_MS = 5 * 60_000;
const TOUCH_EVERY_MS = 60_000;
/** Admitted times are mirrored to storage in batches, at most this long after the first one. */
const FLUSH_MS = 1000;
const MAX_CACHED_KEYS = 1000;
/** D1 lookups for keys not in the cache, per minute: unknown keys cannot turn the gate into a D1 load generator. */
const MAX_LOOKUPS_PER_MINUTE = 600;

interface CachedKey {
  record: KeyRecord | null;
  loadedAt: number;
  touchedAt: number;
}

/**
 * The team's gate: one Durable Object per team sees every request of all the team's keys
 * (seed 002). It counts them in an exact sliding window (a DO runs one call at a time, so the
 * count is exact under any concurrency) and authenticates keys from a cache, so the hot path
 * costs one RPC and no D1 query. Revocations are tombstones written here, before the revoking
 * request answers; plan changes drop the cache. Tombstones are written to the object's SQLite
 * storage at once. Admitted times are counted in memory (so no storage write, with its output
 * gate, sits on every request) and mirrored to storage by an alarm within a second, so an
 * eviction (which only happens when idle) or a deploy does not hand out a fresh window; a
 * crash can forget at most the last second of admissions.
 *
 * The same class, under other names, limits login and sign-up attempts (`consume` only).
 */
export class TeamRateLimiter extends DurableObject<Env> {
  private log: SlidingWindowLog | undefined;
  private unflushed: number[] = [];
  private flushScheduled = false;
  private readonly keys = new Map<string, CachedKey>();
  private revoked: Set<string> | undefined;
  /** Bumped by refresh(): a record loaded across a refresh is not cached. */
  private generation = 0;
  private readonly lookups = new SlidingWindowLog(RATE_LIMIT_WINDOW_MS);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (t INTEGER NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS revoked_keys (key_hash TEXT PRIMARY KEY)");
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

  private tombstones(): Set<string> {
    this.revoked ??= new Set(this.ctx.storage.sql.exec<{ key_hash: string }>("SELECT key_hash FROM revoked_keys").toArray().map((r) => r.key_hash));
    return this.revoked;
  }

  /** Counts one request against `limit` per minute. */
  consume(limit: number): RateLimitDecision {
    const now = Date.now();
    const decision = this.window(now).consume(now, limit);
    if (decision.allowed) {
      this.unflushed.push(now);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        void this.ctx.storage.setAlarm(now + FLUSH_MS);
      }
    }
    return decision;
  }

  /** Mirrors the admitted times of the last second to storage and trims what left the window. */
  override async alarm(): Promise<void> {
    const pending = this.unflushed;
    this.unflushed = [];
    this.flushScheduled = false;
    this.ctx.storage.transactionSync(() => {
      for (const t of pending) this.ctx.storage.sql.exec("INSERT INTO hits (t) VALUES (?)", t);
      this.ctx.storage.sql.exec("DELETE FROM hits WHERE t < ?", Date.now() - RATE_LIMIT_WINDOW_MS);
    });
  }

  /**
   * Authenticates a key of this team by its hash and counts the request. Null for an unknown,
   * revoked or other team's key (nothing is counted then).
   */
  async admit(keyHash: string, teamId: string): Promise<{ record: KeyRecord; decision: RateLimitDecision; touch: boolean } | null> {
    if (this.tombstones().has(keyHash)) return null;
    const now = Date.now();
    let cached = this.keys.get(keyHash);
    if (!cached || now - cached.loadedAt > KEY_CACHE_MS) {
      if (!this.lookups.consume(now, MAX_LOOKUPS_PER_MINUTE).allowed) return null;
      const generation = this.generation;
      const record = await loadKeyRecord(this.env.DB, keyHash);
      // A revocation may have landed while D1 was being read.
      if (this.tombstones().has(keyHash)) return null;
      const touchedAt = cached?.touchedAt ?? 0;
      cached = { record, loadedAt: now, touchedAt };
      // Only known keys are cached (unknown ones must not push them out), and only if no
      // plan change or revocation refreshed the cache while D1 was being read.
      if (record && generation === this.generation) {
        if (this.keys.size >= MAX_CACHED_KEYS) this.keys.delete(this.keys.keys().next().value ?? "");
        this.keys.set(keyHash, cached);
      }
    }
    const record = cached.record;
    // The team named in the key must be the key's team (and this object's).
    if (!record || record.revoked || record.team.id !== teamId) return null;
    const decision = this.consume(PLANS[record.team.plan].rateLimitPerMinute);
    const touch = now - cached.touchedAt >= TOUCH_EVERY_MS;
    if (touch) cached.touchedAt = now;
    return { record, decision, touch };
  }

  /** Refuses the key from now on, whatever any cache or D1 says. */
  revokeKey(keyHash: string): void {
    this.ctx.storage.sql.exec("INSERT OR IGNORE INTO revoked_keys (key_hash) VALUES (?)", keyHash);
    this.tombstones().add(keyHash);
    this.keys.delete(keyHash);
    this.generation++;
  }

  /** Forgets cached keys (and so the team's plan): the next request reads D1 again. */
  refresh(): void {
    this.generation++;
    this.keys.clear();
  }
}

function stub(env: Pick<Env, "RATE_LIMITER">, name: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(name));
}

/** The typed client of a team's gate. */
export function teamGate(env: Pick<Env, "RATE_LIMITER">, teamId: string) {
  const gate = stub(env, teamId);
  return {
    admit: (keyHash: string) => gate.admit(keyHash, teamId),
    revokeKey: (keyHash: string) => gate.revokeKey(keyHash),
    refresh: () => gate.refresh(),
  };
}

/** A plain limiter under any name (login and sign-up attempts). */
export function rateLimiterFor(env: Pick<Env, "RATE_LIMITER">, name: string) {
  const limiter = stub(env, name);
  return { consume: (limit: number): Promise<RateLimitDecision> => limiter.consume(limit) };
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
