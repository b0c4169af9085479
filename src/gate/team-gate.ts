import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { PLANS } from "../plans";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import { KeyCache, type GateKey } from "./key-cache";
import { RequestWindow } from "./request-window";

export type { GateKey } from "./key-cache";

const GATEWAY_VERSION = "gatewayVersion";

/** The key is this team's and may pass; `decision` says whether the rate limit lets it. */
export interface Admitted {
  record: GateKey;
  decision: RateLimitDecision;
  /** Record the key's last use now (asked at most once a minute per key). */
  touch: boolean;
  /**
   * The team's gateway version: changes whenever a service, a vault credential or the unmatched
   * policy changes (`gatewayChanged`), so the proxy's isolate cache knows, in this same RPC,
   * whether what it holds for the team is still current.
   */
  gatewayVersion: string;
}

/** The key is not cached: look it up and hand the record back with this generation. */
export interface LookupNeeded {
  lookup: number;
}

/** One step of admission: admitted, a lookup to make first, or null (unknown, revoked or another team's key). */
export type GateStep = Admitted | LookupNeeded | null;

/**
 * The team's gate: one Durable Object per team sees every API-key request of the team (seed
 * 002). It admits keys from a cache (so the hot path is one RPC and no D1 query), holds
 * revocation tombstones, forgets cached plans on a plan change, and counts requests in an exact
 * sliding window (a Durable Object runs one call at a time, so the count is exact under any
 * concurrency).
 *
 * It knows nothing of how keys are stored: on a cache miss it asks its caller to look the key
 * up (`admit` answers `{lookup}`, the caller reads D1 and calls `admitLoaded`), so the key
 * service depends on the gate and never the other way round. Use it through `gateFor()`
 * (client.ts), never through a hand-built stub.
 *
 * More per-team counters that must be exact are one more component beside these, with their
 * own RPC methods in the client. (The team's outbound calls in flight are counted by the task
 * claim itself, in D1: src/tasks/transitions.ts, claim.)
 */
export class TeamGate extends DurableObject<Env> {
  private readonly keys: KeyCache;
  private readonly requests: RequestWindow;
  private gatewayVersion: string;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.keys = new KeyCache(ctx.storage.sql);
    this.requests = new RequestWindow(ctx.storage);
    // Random, not a counter: a version can never come back (say after storage is reset), so a
    // stale isolate cache entry can never look current.
    this.gatewayVersion = ctx.storage.kv.get<string>(GATEWAY_VERSION) ?? this.newGatewayVersion();
  }

  private newGatewayVersion(): string {
    const version = crypto.randomUUID();
    this.ctx.storage.kv.put(GATEWAY_VERSION, version);
    return version;
  }

  /** A service, credential or policy the proxy uses changed: every isolate reloads on its next request. */
  gatewayChanged(): string {
    this.gatewayVersion = this.newGatewayVersion();
    return this.gatewayVersion;
  }

  /** Counts one request of the team against `limit` per minute. */
  consume(limit: number): RateLimitDecision {
    return this.requests.consume(limit);
  }

  /** Admits a key of this team by its hash from the cache, or asks for a lookup. */
  admit(keyHash: string, teamId: string): GateStep {
    if (this.keys.isRevoked(keyHash)) return null;
    const now = Date.now();
    const cached = this.keys.fresh(keyHash, now);
    if (!cached) {
      const generation = this.keys.grantLookup(now);
      return generation === null ? null : { lookup: generation };
    }
    return this.pass(cached.record, teamId, () => this.keys.touch(cached, now));
  }

  /** Completes `admit` with the record the caller looked up (null: no such key). */
  admitLoaded(keyHash: string, teamId: string, record: GateKey | null, generation: number): GateStep {
    // A revocation may have landed while the caller was reading D1.
    if (this.keys.isRevoked(keyHash)) return null;
    const now = Date.now();
    const entry = this.keys.store(keyHash, record, generation, now);
    return this.pass(entry.record, teamId, () => this.keys.touch(entry, now));
  }

  private pass(record: GateKey | null, teamId: string, touch: () => boolean): Admitted | null {
    // The team named in the key must be the key's team (and this object's); nothing is counted otherwise.
    if (!record || record.revoked || record.team.id !== teamId) return null;
    // An expired key (a short-lived agent token) is refused from its expiry on, cached or not.
    if (record.expiresAt && Date.parse(record.expiresAt) <= Date.now()) return null;
    return { record, decision: this.requests.consume(PLANS[record.team.plan].rateLimitPerMinute), touch: touch(), gatewayVersion: this.gatewayVersion };
  }

  /** Refuses the key from now on, whatever any cache or D1 says. */
  revokeKey(keyHash: string): void {
    this.keys.revoke(keyHash);
  }

  /** Forgets cached keys (and so the team's plan): the next request looks them up again. */
  refresh(): void {
    this.keys.refresh();
  }

  override alarm(): void {
    this.requests.flush();
  }
}
