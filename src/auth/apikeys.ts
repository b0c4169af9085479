import { AppError } from "../errors";
import { newId } from "../ids";
import { sha256Hex } from "../encoding";
import type { Plan } from "../plans";
import { parseScopes, type Scope } from "./scopes";
import { ID_BODY } from "../ids";
import type { Env } from "../env";
import { teamGate } from "../ratelimit/limiter";
import type { RateLimitDecision } from "../ratelimit/sliding-window";

/**
 * Team API keys: `tvk_` + the team's id (26 lowercase characters, not secret: it routes the
 * request to the team's Durable Object without a D1 lookup) + 49 base62 characters (291
 * random bits; the 45 never shown in the display prefix carry 268). The fixed prefix and shape
 * let secret scanners recognise a leaked key; only its SHA-256 is stored (a 256-bit random
 * key needs no slow hash), together with a short display prefix.
 */
export const API_KEY_PREFIX = "tvk_";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LENGTH = 49;
const TEAM_PART = 26;
export const API_KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}${ID_BODY}[0-9A-Za-z]{${SECRET_LENGTH}}$`);

/** The team a well-formed key claims to belong to (verified by its hash, never trusted alone). */
export function teamIdOfKey(key: string): string {
  return `team_${key.slice(API_KEY_PREFIX.length, API_KEY_PREFIX.length + TEAM_PART)}`;
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

export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
  prefix: string;
}

export async function generateApiKey(teamId: string): Promise<NewApiKey> {
  const key = API_KEY_PREFIX + teamId.replace(/^team_/, "") + randomBase62(SECRET_LENGTH);
  return { id: newId.apiKey(), key, hash: await sha256Hex(key), prefix: key.slice(0, API_KEY_PREFIX.length + TEAM_PART + 4) };
}

export function insertApiKeyStatement(db: D1Database, teamId: string, name: string, apiKey: NewApiKey, at: string, scopes: readonly Scope[], createdBy: string | null) {
  return db
    .prepare("INSERT INTO api_keys (id, team_id, name, key_hash, prefix, scopes, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    .bind(apiKey.id, teamId, name, apiKey.hash, apiKey.prefix, scopes.join(" "), createdBy, at);
}

export interface AuthenticatedTeam {
  id: string;
  name: string;
  plan: Plan;
  keySalt: string;
  createdAt: string;
}

export interface ApiKeyAuth {
  apiKeyId: string;
  scopes: readonly Scope[];
  team: AuthenticatedTeam;
}

const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Records when a key was last used, after the response. The team's Durable Object asks for
 * this at most once a minute per key; the guard in SQL keeps any overlap harmless.
 */
export function touchApiKey(db: D1Database, auth: ApiKeyAuth, exec: ExecutionContext): void {
  const now = Date.now();
  const at = new Date(now).toISOString();
  const staleBefore = new Date(now - LAST_USED_RESOLUTION_MS).toISOString();
  exec.waitUntil(
    db
      .prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
      .bind(at, auth.apiKeyId, staleBefore)
      .run()
      .then(() => undefined, () => undefined),
  );
}

/** Reads the key from `Authorization: Bearer <key>` or `X-API-Key: <key>` (seed 002). */
export function extractApiKey(headers: Headers): string | undefined {
  const authorization = headers.get("authorization");
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const headerKey = headers.get("x-api-key")?.trim();
  return headerKey || undefined;
}

interface KeyRow {
  key_id: string;
  scopes: string;
  revoked_at: string | null;
  team_id: string;
  team_name: string;
  plan: Plan;
  key_salt: string;
  team_created_at: string;
}

/** What the team's Durable Object caches about a key (loaded from D1 on a miss). */
export interface KeyRecord {
  apiKeyId: string;
  scopes: Scope[];
  revoked: boolean;
  team: AuthenticatedTeam;
}

/** The key's row joined with its team, by hash. */
export async function loadKeyRecord(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  const row = await db
    .prepare(
      `SELECT k.id AS key_id, k.scopes, k.revoked_at, t.id AS team_id, t.name AS team_name, t.plan, t.key_salt, t.created_at AS team_created_at
       FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.key_hash = ?`,
    )
    .bind(keyHash)
    .first<KeyRow>();
  if (!row) return null;
  return {
    apiKeyId: row.key_id,
    scopes: parseScopes(row.scopes),
    revoked: row.revoked_at !== null,
    team: { id: row.team_id, name: row.team_name, plan: row.plan, keySalt: row.key_salt, createdAt: row.team_created_at },
  };
}

/**
 * Authenticates the key and counts the request in one call to the team's Durable Object, which
 * caches keys (so the hot path makes no D1 query) and holds revocations as tombstones written
 * before the revoking request answers: a revoked key fails on the very next request.
 */
export async function authenticateApiKey(env: Pick<Env, "RATE_LIMITER">, headers: Headers): Promise<{ auth: ApiKeyAuth; decision: RateLimitDecision; touch: boolean }> {
  const key = extractApiKey(headers);
  if (!key) throw new AppError("api_key_required");
  if (!API_KEY_PATTERN.test(key)) throw new AppError("invalid_api_key");
  const admitted = await teamGate(env, teamIdOfKey(key)).admit(await sha256Hex(key));
  if (!admitted) throw new AppError("invalid_api_key");
  const { record, decision, touch } = admitted;
  return { auth: { apiKeyId: record.apiKeyId, scopes: record.scopes, team: record.team }, decision, touch };
}

export interface ApiKeyRow {
  id: string;
  team_id: string;
  name: string;
  prefix: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export function apiKeyView(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: parseScopes(row.scopes),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

export class PlanLimitError extends AppError {
  constructor(what: string, limit: number, plan: Plan) {
    super("plan_limit_reached", `Plan limit reached: the ${plan} plan allows ${limit} ${what}`, { limit, plan });
  }
}
