import { env, SELF } from "cloudflare:test";
import { gatewayChanged } from "../../src/gateway/cache";
import type { ServiceAuth } from "../../src/gateway/types";
import { ulid } from "../../src/ids";
import { sealSecret } from "../../src/vault/cipher";
import { getKeyring } from "../../src/vault/keyring";

/**
 * The gateway's data as its writers leave it, for the proxy's tests: services rows (auth JSON
 * naming KEYs, the host as written) and vault KEY credentials (rows of the one store, kind
 * `vault_key`, name = the KEY, sealed by the store's cipher), each followed by the writers'
 * `gatewayChanged` call.
 */
let position = 0;

export async function putService(teamId: string, service: { name: string; host: string; auth: ServiceAuth; enabled?: boolean }): Promise<void> {
  const at = new Date().toISOString();
  await env.DB
    .prepare(
      `INSERT INTO services (team_id, name, host, enabled, auth, position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (team_id, name) DO UPDATE SET host = excluded.host, enabled = excluded.enabled, auth = excluded.auth, updated_at = excluded.updated_at`,
    )
    .bind(teamId, service.name, service.host, service.enabled === false ? 0 : 1, JSON.stringify(service.auth), ++position, at, at)
    .run();
  await gatewayChanged(env, teamId);
}

export async function putVaultKey(teamId: string, key: string, value: string, options: { expiresAt?: string; allowedHosts?: string[] } = {}): Promise<string> {
  const team = await env.DB.prepare("SELECT key_salt FROM teams WHERE id = ?").bind(teamId).first<{ key_salt: string }>();
  if (!team) throw new Error(`no team ${teamId}`);
  const id = `tok_${ulid()}`;
  const sealed = await sealSecret(await getKeyring(env), { teamId, salt: team.key_salt }, id, value);
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE team_id = ? AND kind = 'vault_key' AND name = ? AND revoked_at IS NULL").bind(at, teamId, key),
    env.DB
      .prepare("INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind, expires_at, allowed_hosts) VALUES (?, ?, ?, ?, ?, ?, ?, 'vault_key', ?, ?)")
      .bind(id, teamId, key, sealed.ciphertext, sealed.iv, sealed.keyVersion, at, options.expiresAt ?? null, options.allowedHosts ? JSON.stringify(options.allowedHosts) : null),
  ]);
  await gatewayChanged(env, teamId);
  return id;
}

export async function deleteVaultKey(teamId: string, key: string): Promise<void> {
  await env.DB.prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE team_id = ? AND kind = 'vault_key' AND name = ? AND revoked_at IS NULL").bind(new Date().toISOString(), teamId, key).run();
  await gatewayChanged(env, teamId);
}

export async function setUnmatchedPolicy(teamId: string, policy: "deny" | "passthrough"): Promise<void> {
  await env.DB.prepare("UPDATE teams SET unmatched_policy = ? WHERE id = ?").bind(policy, teamId).run();
  await gatewayChanged(env, teamId);
}

/** The fake upstream's authority on loopback (127.0.0.1:<port>). */
export const upstreamAuthority = (): string => new URL(env.UPSTREAM_URL).host;

/** A request through the proxy, as an agent sends it. */
export function viaProxy(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`https://vault.test${path}`, init);
}
