import type { Plan } from "../plans";
import { SlidingWindowLog } from "../ratelimit/sliding-window";

/**
 * What the gate must know of an API key to admit it. The key service (auth/apikeys.ts) loads
 * richer records (scopes, the team's name...); the gate caches them whole and reads only this.
 */
export interface GateKey {
  revoked: boolean;
  /** An agent token's end (ISO); null or absent: no expiry. Checked at every admission. */
  expiresAt?: string | null;
  team: { id: string; plan: Plan };
}

/** How long a cached key record is trusted before D1 is asked again (revocations do not wait for it). */
const KEY_CACHE_MS = 5 * 60_000;
const TOUCH_EVERY_MS = 60_000;
const MAX_CACHED_KEYS = 1000;
/** Lookups for keys not in the cache, per minute: unknown keys cannot turn the gate into a D1 load generator. */
const MAX_LOOKUPS_PER_MINUTE = 600;

interface CachedKey {
  record: GateKey | null;
  loadedAt: number;
  touchedAt: number;
}

/**
 * The team's key cache and revocation tombstones. Tombstones are written to the object's
 * SQLite storage at once (before the revoking request answers); the cache lives in memory.
 * A generation number, bumped by every revocation and plan refresh, keeps a record that was
 * being looked up across such a change out of the cache.
 */
export class KeyCache {
  private readonly keys = new Map<string, CachedKey>();
  private revoked: Set<string> | undefined;
  private generation = 0;
  private readonly lookups = new SlidingWindowLog(60_000);

  constructor(private readonly sql: SqlStorage) {
    sql.exec("CREATE TABLE IF NOT EXISTS revoked_keys (key_hash TEXT PRIMARY KEY)");
  }

  private tombstones(): Set<string> {
    this.revoked ??= new Set(this.sql.exec<{ key_hash: string }>("SELECT key_hash FROM revoked_keys").toArray().map((r) => r.key_hash));
    return this.revoked;
  }

  isRevoked(keyHash: string): boolean {
    return this.tombstones().has(keyHash);
  }

  /** A record loaded within the cache lifetime, or undefined when it must be looked up. */
  fresh(keyHash: string, now: number): CachedKey | undefined {
    const cached = this.keys.get(keyHash);
    return cached && now - cached.loadedAt <= KEY_CACHE_MS ? cached : undefined;
  }

  /** Grants one lookup from the per-minute budget; the answer carries the generation to hand back. */
  grantLookup(now: number): number | null {
    return this.lookups.consume(now, MAX_LOOKUPS_PER_MINUTE).allowed ? this.generation : null;
  }

  /**
   * Takes a looked-up record. Only known keys are cached (unknown ones must not push them out),
   * and only if no plan change or revocation happened since the lookup was granted.
   */
  store(keyHash: string, record: GateKey | null, generation: number, now: number): CachedKey {
    const touchedAt = this.keys.get(keyHash)?.touchedAt ?? 0;
    const entry: CachedKey = { record, loadedAt: now, touchedAt };
    if (record && generation === this.generation) {
      if (this.keys.size >= MAX_CACHED_KEYS && !this.keys.has(keyHash)) this.keys.delete(this.keys.keys().next().value ?? "");
      this.keys.set(keyHash, entry);
    }
    return entry;
  }

  /** Whether the key's last use should be recorded now (at most once a minute per key). */
  touch(entry: CachedKey, now: number): boolean {
    if (now - entry.touchedAt < TOUCH_EVERY_MS) return false;
    entry.touchedAt = now;
    return true;
  }

  revoke(keyHash: string): void {
    this.sql.exec("INSERT OR IGNORE INTO revoked_keys (key_hash) VALUES (?)", keyHash);
    this.tombstones().add(keyHash);
    this.keys.delete(keyHash);
    this.generation++;
  }

  refresh(): void {
    this.generation++;
    this.keys.clear();
  }
}
