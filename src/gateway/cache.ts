import type { Env } from "../env";
import { gateFor } from "../gate/client";
import { allowLoopbackTargets } from "../outbound/url-policy";
import { parseAllowedHosts } from "../vault/hosts";
import { serviceRule, type ServiceRuleRow } from "./service-rules";
import { referencedKeys, type ServiceRule } from "./types";

/**
 * The proxy serves its warm path (the vault's services and the ciphertext of the credentials
 * they name) without a D1 query. Every write that changes what the proxy would inject (a
 * service, a vault credential set, deleted, rotated or revoked, a master-key re-encryption, the
 * unmatched policy) calls this after its D1 batch succeeds, so the very next proxied request
 * sees the change.
 *
 * How: the team's gate keeps a random "gateway version"; this replaces it. The gate answers the
 * version in the same RPC that authenticates and counts each proxied request, and the isolate
 * cache below holds a team's snapshot under the version it was loaded at, so a changed version
 * reloads at once, in whichever isolate the next request lands.
 */
export async function gatewayChanged(env: Pick<Env, "TEAM_GATE">, teamId: string): Promise<void> {
  await gateFor(env, teamId).gatewayChanged();
}

/** A vault credential as the proxy holds it between requests: sealed, never the plaintext. */
export interface SealedCredential {
  /** The store's row id (`tok_...`). */
  id: string;
  /** The KEY. */
  key: string;
  /** `static` today; OAuth credentials (type `oauth`) join through credentialValue (credential-value.ts). */
  type: string;
  ciphertext: string;
  iv: string;
  keyVersion: number;
  /** The row's current version (the cipher's label names it). */
  version: number;
  expiresAt: string | null;
  allowedHosts: string[] | null;
}

/** What the proxy needs of one team, loaded in one D1 round trip. */
export interface GatewaySnapshot {
  rules: ServiceRule[];
  unmatchedPolicy: "deny" | "passthrough";
  /** The credentials the team's services name, by KEY (a KEY no service names is never loaded). */
  credentials: Map<string, SealedCredential>;
}

/** D1 loads of snapshots made by this isolate: observable, so tests can count them. */
export const gatewayLoads = { d1: 0 };

const MAX_TEAMS = 1000;
const cache = new Map<string, { version: string; snapshot: Promise<GatewaySnapshot> }>();

/** The team's snapshot at `version` (the gate's answer for this request): from memory, or one D1 batch. */
export function gatewaySnapshot(env: Pick<Env, "DB" | "ALLOW_LOOPBACK_TARGETS" | "ALLOW_PRIVATE_TARGETS">, teamId: string, version: string): Promise<GatewaySnapshot> {
  const hit = cache.get(teamId);
  if (hit && hit.version === version) {
    // Re-inserted: the map's order is least recently used first.
    cache.delete(teamId);
    cache.set(teamId, hit);
    return hit.snapshot;
  }
  const snapshot = loadSnapshot(env, teamId);
  cache.delete(teamId);
  if (cache.size >= MAX_TEAMS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  const entry = { version, snapshot };
  cache.set(teamId, entry);
  // A failed load is not cached: the next request tries again.
  snapshot.catch(() => {
    if (cache.get(teamId) === entry) cache.delete(teamId);
  });
  return snapshot;
}

interface CredentialRow {
  id: string;
  name: string;
  type: string;
  ciphertext: string;
  iv: string;
  key_version: number;
  current_version: number;
  expires_at: string | null;
  allowed_hosts: string | null;
}

async function loadSnapshot(env: Pick<Env, "DB" | "ALLOW_LOOPBACK_TARGETS" | "ALLOW_PRIVATE_TARGETS">, teamId: string): Promise<GatewaySnapshot> {
  gatewayLoads.d1++;
  const [services, team, credentials] = await env.DB.batch([
    env.DB.prepare("SELECT name, host, enabled, auth, position FROM services WHERE team_id = ? ORDER BY position, name").bind(teamId),
    env.DB.prepare("SELECT unmatched_policy FROM teams WHERE id = ?").bind(teamId),
    env.DB
      .prepare(
        `SELECT id, name, type, ciphertext, iv, key_version, current_version, expires_at, allowed_hosts
         FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND revoked_at IS NULL`,
      )
      .bind(teamId),
  ]);
  const rules = ((services?.results ?? []) as unknown as ServiceRuleRow[]).flatMap((row) => serviceRule(teamId, row, allowLoopbackTargets(env)));
  const named = new Set(rules.flatMap((rule) => referencedKeys(rule.auth)));
  const sealed = new Map<string, SealedCredential>();
  for (const row of (credentials?.results ?? []) as unknown as CredentialRow[]) {
    if (!named.has(row.name) || row.ciphertext === "") continue;
    sealed.set(row.name, {
      id: row.id,
      key: row.name,
      type: row.type,
      ciphertext: row.ciphertext,
      iv: row.iv,
      keyVersion: row.key_version,
      version: row.current_version,
      expiresAt: row.expires_at,
      allowedHosts: parseAllowedHosts(row.allowed_hosts),
    });
  }
  const policy = ((team?.results ?? [])[0] as { unmatched_policy?: string } | undefined)?.unmatched_policy;
  return { rules, unmatchedPolicy: policy === "passthrough" ? "passthrough" : "deny", credentials: sealed };
}
