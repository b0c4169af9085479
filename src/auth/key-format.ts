import { base64ToBytes, hexToBytes, utf8 } from "../encoding";
import type { Env } from "../env";
import { AppError } from "../errors";
import { ID_BODY } from "../ids";

/**
 * The API key format: `tvk_` + the team's id (26 lowercase characters, not secret: it routes
 * the request to the team's gate) + 49 base62 characters, of which the first 43 are random (256
 * bits) and the last 6 are a keyed checksum of everything before them. The shape has not
 * changed since the first keys (so secret scanners' patterns still match); keys issued before
 * the checksum have 49 random characters and are handled in legacy-keys.ts.
 *
 * The checksum is HMAC-SHA256 over `tvk_<team><random>` with a key derived by HKDF from
 * API_KEY_SECRET, truncated to 6 base62 characters (35.7 bits). The Worker verifies it without
 * any I/O, so a forged key stops before it reaches a Durable Object or D1. It is a filter, not
 * the authentication: a leaked API_KEY_SECRET lets an attacker make keys that pass it, which
 * then still fail the hash lookup.
 */
export const API_KEY_PREFIX = "tvk_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TEAM_PART = 26;
const RANDOM_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const BODY_LENGTH = API_KEY_PREFIX.length + TEAM_PART + RANDOM_LENGTH;
export const API_KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}${ID_BODY}[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`);
/** What the key list shows of a key: the prefix, the team part and 4 random characters. */
export const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + TEAM_PART + 4;
const HKDF_INFO = "token-vault/api-key-checksum/v1";

/** API_KEY_SECRET is missing or malformed where a checksum must be made or checked. */
export class ApiKeyConfigError extends AppError {
  constructor(reason: string) {
    super("not_configured", `API keys are not configured: ${reason}`);
    this.name = "ApiKeyConfigError";
  }
}

/** The team a well-formed key claims to belong to (verified by its hash, never trusted alone). */
export function teamIdOfKey(key: string): string {
  return `team_${teamPartOfKey(key)}`;
}

export function teamPartOfKey(key: string): string {
  return key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + TEAM_PART);
}

function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(64))) {
      // Rejection sampling keeps every character uniformly likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

function parseSecret(raw: string): Uint8Array {
  const value = raw.trim();
  let bytes: Uint8Array | undefined;
  try {
    if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = hexToBytes(value);
    else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) bytes = base64ToBytes(value);
  } catch {
    bytes = undefined;
  }
  if (!bytes || bytes.length !== 32) throw new ApiKeyConfigError("API_KEY_SECRET must be 32 random bytes, as 64 hex characters or base64 (openssl rand -hex 32)");
  return bytes;
}

let cached: { source: string; key: Promise<CryptoKey> } | undefined;

/** The checksum key of this isolate's configuration; null when API_KEY_SECRET is not set. */
function checksumKey(env: Pick<Env, "API_KEY_SECRET">): Promise<CryptoKey> | null {
  const source = env.API_KEY_SECRET?.trim();
  if (!source) return null;
  if (cached?.source === source) return cached.key;
  const bytes = parseSecret(source);
  const key = crypto.subtle
    .importKey("raw", bytes, "HKDF", false, ["deriveKey"])
    .then((base) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8.encode(HKDF_INFO) },
        base,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign"],
      ),
    );
  cached = { source, key };
  return key;
}

async function checksum(key: CryptoKey, body: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(body)));
  let value = 0n;
  for (const byte of mac.subarray(0, 8)) value = (value << 8n) | BigInt(byte);
  let out = "";
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out;
}

/** A new key for the team, with its checksum. */
export async function newApiKeyString(env: Pick<Env, "API_KEY_SECRET">, teamId: string): Promise<string> {
  const key = checksumKey(env);
  if (!key) throw new ApiKeyConfigError("set API_KEY_SECRET (openssl rand -hex 32)");
  const body = API_KEY_PREFIX + teamId.replace(/^team_/, "") + randomBase62(RANDOM_LENGTH);
  return body + (await checksum(await key, body));
}

/**
 * True when a well-formed key carries a valid checksum (so this vault issued it). False for
 * any other key, which is forged or was issued before checksums (legacy-keys.ts decides).
 */
export async function hasValidChecksum(env: Pick<Env, "API_KEY_SECRET">, key: string): Promise<boolean> {
  const hmacKey = checksumKey(env);
  if (!hmacKey || !API_KEY_PATTERN.test(key)) return false;
  const expected = utf8.encode(await checksum(await hmacKey, key.slice(0, BODY_LENGTH)));
  return crypto.subtle.timingSafeEqual(expected, utf8.encode(key.slice(BODY_LENGTH)));
}
