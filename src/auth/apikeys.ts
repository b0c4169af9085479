import { AppError } from "../errors";
import { newId } from "../ids";
import { sha256Hex } from "../encoding";
import type { Plan } from "../plans";
import { parseScopes, type Scope } from "./scopes";
import type { Env } from "../env";
import type { ApiKeyRole } from "../context";
import { gateFor } from "../gate/client";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import { API_KEY_PATTERN, DISPLAY_PREFIX_LENGTH, hasValidChecksum, newApiKeyString, teamIdOfKey } from "./key-format";
import { allowLegacyLookup, mayBeLegacyKey, rememberLegacyKey } from "./legacy-keys";

/**
 * Team API keys (format and checksum: key-format.ts). Only a key's SHA-256 is stored (a
 * 256-bit random key needs no slow hash), together with a short display prefix.
 */
export interface NewApiKey {
  id: string;
  key: string;
  hash: string;
  prefix: string;
}

export async function generateApiKey(env: Pick<Env, "API_KEY_SECRET">, teamId: string): Promise<NewApiKey> {
  const key = await newApiKeyString(env, teamId);
  return { id: newId.apiKey(), key, hash: await sha256Hex(key), prefix: key.slice(0, DISPLAY_PREFIX_LENGTH) };
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
  role: ApiKeyRole;
  scopes: readonly Scope[];
  /** Scope labels (named secrets with labels are revealed only to keys carrying them). */
  labels: readonly string[];
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
  role: ApiKeyRole | null;
  expires_at: string | null;
  scopes: string;
  labels: string;
  revoked_at: string | null;
  team_id: string;
  team_name: string;
  plan: Plan;
  key_salt: string;
  team_created_at: string;
}

/** What the team's gate caches about a key (this service looks it up in D1 on a miss). */
export interface KeyRecord {
  apiKeyId: string;
  /** Absent in records cached before roles existed: standard. */
  role?: ApiKeyRole;
  expiresAt: string | null;
  scopes: Scope[];
  labels: string[];
  revoked: boolean;
  team: AuthenticatedTeam;
}

/** D1 lookups of API keys made by this isolate: observable, so tests can count them. */
export const apiKeyLookups = { d1: 0 };

/** The key's row joined with its team, by hash. */
export async function loadKeyRecord(db: D1Database, keyHash: string): Promise<KeyRecord | null> {
  apiKeyLookups.d1++;
  const row = await db
    .prepare(
      `SELECT k.id AS key_id, k.role, k.expires_at, k.scopes, k.labels, k.revoked_at, t.id AS team_id, t.name AS team_name, t.plan, t.key_salt, t.created_at AS team_created_at
       FROM api_keys k JOIN teams t ON t.id = k.team_id WHERE k.key_hash = ?`,
    )
    .bind(keyHash)
    .first<KeyRow>();
  if (!row) return null;
  return {
    apiKeyId: row.key_id,
    role: row.role ?? "standard",
    expiresAt: row.expires_at,
    scopes: parseScopes(row.scopes),
    labels: parseLabels(row.labels),
    revoked: row.revoked_at !== null,
    team: { id: row.team_id, name: row.team_name, plan: row.plan, keySalt: row.key_salt, createdAt: row.team_created_at },
  };
}

/**
 * Authenticates the key and counts the request at the team's gate, which caches keys (so the
 * hot path makes no D1 query) and holds revocations as tombstones written before the revoking
 * request answers: a revoked key fails on the very next request. A key without a valid
 * checksum fails here, before any Durable Object or D1 is touched, unless it may be a key
 * issued before checksums (legacy-keys.ts), which takes the same path within a budget.
 */
export async function authenticateApiKey(
  env: Pick<Env, "DB" | "TEAM_GATE" | "API_KEY_SECRET" | "LEGACY_API_KEYS_BEFORE">,
  headers: Headers,
): Promise<KeyAdmission> {
  const key = extractApiKey(headers);
  if (!key) throw new AppError("api_key_required");
  return authenticateKey(env, key);
}

export interface KeyAdmission {
  auth: ApiKeyAuth;
  decision: RateLimitDecision;
  touch: boolean;
  /** The team's gateway version, from the same gate RPC (the proxy's cache check). */
  gatewayVersion: string;
}

/** authenticateApiKey for a key already taken from the request (the proxy finds it in several places). */
export async function authenticateKey(
  env: Pick<Env, "DB" | "TEAM_GATE" | "API_KEY_SECRET" | "LEGACY_API_KEYS_BEFORE">,
  key: string,
): Promise<KeyAdmission> {
  if (!API_KEY_PATTERN.test(key)) throw new AppError("invalid_api_key");
  const checked = await hasValidChecksum(env, key);
  if (!checked && !mayBeLegacyKey(env, key)) throw new AppError("invalid_api_key");
  const keyHash = await sha256Hex(key);
  if (!checked && !allowLegacyLookup(keyHash)) throw new AppError("invalid_api_key");
  const admitted = await gateFor(env, teamIdOfKey(key)).admit(keyHash, (hash) => loadKeyRecord(env.DB, hash));
  if (!admitted) throw new AppError("invalid_api_key");
  if (!checked) rememberLegacyKey(keyHash);
  const { record, decision, touch, gatewayVersion } = admitted;
  // The gate refuses expired keys already; checked again here so no cache path can skip it.
  if (record.expiresAt && Date.parse(record.expiresAt) <= Date.now()) throw new AppError("invalid_api_key");
  return { auth: { apiKeyId: record.apiKeyId, role: record.role ?? "standard", scopes: record.scopes, labels: record.labels ?? [], team: record.team }, decision, touch, gatewayVersion };
}

export interface ApiKeyRow {
  id: string;
  role?: ApiKeyRole | null;
  expires_at?: string | null;
  team_id: string;
  name: string;
  prefix: string;
  scopes: string;
  labels: string;
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
    labels: parseLabels(row.labels),
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    role: row.role ?? "standard",
    expiresAt: row.expires_at ?? null,
  };
}

export function parseLabels(stored: string | null | undefined): string[] {
  if (!stored) return [];
  const parsed = JSON.parse(stored) as unknown;
  return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === "string") : [];
}

export class PlanLimitError extends AppError {
  constructor(what: string, limit: number, plan: Plan) {
    super("plan_limit_reached", `Plan limit reached: the ${plan} plan allows ${limit} ${what}`, { limit, plan });
  }
}
