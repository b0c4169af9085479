import type { Env } from "../env";
import { idTime } from "../ids";
import { SlidingWindowLog } from "../ratelimit/sliding-window";
import { ApiKeyConfigError, teamPartOfKey } from "./key-format";

/**
 * Keys issued before the checksum (49 random characters) keep working, on a bounded path.
 * Such a key cannot be told from a forged one without a lookup, so it is looked up only when
 * the team its key names was created before checksummed keys were issued (the team id carries
 * its creation time): a key naming a team created later cannot be a legacy key and is refused
 * without any I/O. Legacy lookups are also limited per isolate (a key that passed once is
 * remembered and no longer counted), so even keys naming old teams cannot make the gate and D1
 * a load generator.
 *
 * LEGACY_API_KEYS_BEFORE (an ISO date-time) moves the cut-off: set it to the time of the upgrade
 * if this version is deployed later than the default below, or to "none" once every legacy key
 * has been replaced.
 */
export const DEFAULT_LEGACY_CUTOFF = "2026-11-23T21:00:00Z";
export const LEGACY_LOOKUPS_PER_MINUTE = 30;
const MAX_REMEMBERED = 10_000;

const lookups = new SlidingWindowLog(60_000);
const remembered = new Map<string, true>();

/** The cut-off in ms since the epoch (0: no legacy keys accepted). */
export function legacyCutoff(env: Pick<Env, "LEGACY_API_KEYS_BEFORE">): number {
  const raw = env.LEGACY_API_KEYS_BEFORE?.trim() || DEFAULT_LEGACY_CUTOFF;
  if (raw === "none") return 0;
  const at = Date.parse(raw);
  if (!Number.isFinite(at)) throw new ApiKeyConfigError('LEGACY_API_KEYS_BEFORE must be an ISO date-time or "none"');
  return at;
}

/** Whether a well-formed key without a valid checksum may be a legacy key, from the key alone. */
export function mayBeLegacyKey(env: Pick<Env, "LEGACY_API_KEYS_BEFORE">, key: string): boolean {
  const created = idTime(teamPartOfKey(key));
  return Number.isFinite(created) && created < legacyCutoff(env);
}

/** Spends one of this isolate's legacy lookups, unless the key already passed here. */
export function allowLegacyLookup(keyHash: string): boolean {
  if (remembered.has(keyHash)) return true;
  return lookups.consume(Date.now(), LEGACY_LOOKUPS_PER_MINUTE).allowed;
}

/** Remembers a legacy key that authenticated (it still goes through the gate every time). */
export function rememberLegacyKey(keyHash: string): void {
  if (remembered.size >= MAX_REMEMBERED && !remembered.has(keyHash)) remembered.delete(remembered.keys().next().value ?? "");
  remembered.set(keyHash, true);
}
