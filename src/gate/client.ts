import type { Env } from "../env";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import type { GateKey } from "./team-gate";

/** How the caller finds a key's record on a cache miss (the key service passes its D1 lookup). */
export type KeyLookup<K extends GateKey> = (keyHash: string) => Promise<K | null>;

export interface Admission<K extends GateKey> {
  record: K;
  decision: RateLimitDecision;
  touch: boolean;
  /** The team's gateway version (see TeamGate.gatewayChanged). */
  gatewayVersion: string;
}

/** The team's gate object itself (tests reach into it; everything else uses `gateFor`). */
export function gateStub(env: Pick<Env, "TEAM_GATE">, teamId: string) {
  return env.TEAM_GATE.get(env.TEAM_GATE.idFromName(teamId));
}

/** The typed client of a team's gate: the only way the Worker talks to it. */
export function gateFor(env: Pick<Env, "TEAM_GATE">, teamId: string) {
  const gate = gateStub(env, teamId);
  return {
    /**
     * Authenticates a key of this team by its hash and counts the request: one RPC when the
     * gate has the key cached, two and one lookup otherwise. Null for an unknown, revoked or
     * other team's key (nothing is counted then).
     */
    async admit<K extends GateKey>(keyHash: string, lookup: KeyLookup<K>): Promise<Admission<K> | null> {
      let step = await gate.admit(keyHash, teamId);
      if (step && "lookup" in step) step = await gate.admitLoaded(keyHash, teamId, await lookup(keyHash), step.lookup);
      if (!step || "lookup" in step) return null;
      // The gate caches and returns the records this team's lookups gave it, unchanged.
      return { record: step.record as K, decision: step.decision, touch: step.touch, gatewayVersion: step.gatewayVersion };
    },
    /** Counts one request against `limit` per minute, without a key. */
    consume: (limit: number): Promise<RateLimitDecision> => gate.consume(limit),
    revokeKey: (keyHash: string): Promise<void> => gate.revokeKey(keyHash),
    refresh: (): Promise<void> => gate.refresh(),
    /** Bumps the team's gateway version: the proxy's caches reload on the very next request. */
    gatewayChanged: (): Promise<string> => gate.gatewayChanged(),
  };
}
