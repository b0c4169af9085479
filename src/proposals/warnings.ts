import type { TeamContext } from "../context";
import { referencedKeys, type Service } from "../gateway/types";
import { vaultKeyRows } from "../views/vault-keys";

/**
 * The exfiltration check of the approval view: a proposed service that would send a credential
 * the vault already has to a host no current service sends it to is how an agent could trick a
 * reviewer into handing a key to a host it controls. Each such (service, KEY) gets a warning.
 */
export async function newHostWarnings(ctx: TeamContext, proposed: readonly Service[]) {
  const keys = [...new Set(proposed.flatMap((s) => referencedKeys(s.auth)))];
  if (keys.length === 0) return [];
  const existing = await vaultKeyRows(ctx, keys);
  const { results } = await ctx.env.DB.prepare("SELECT name, host, auth FROM services WHERE team_id = ?").bind(ctx.team.id).all<{ name: string; host: string; auth: string }>();
  const hostsOf = new Map<string, Set<string>>();
  for (const row of results) {
    for (const key of referencedKeys(JSON.parse(row.auth) as Service["auth"])) {
      const hosts = hostsOf.get(key) ?? new Set<string>();
      hosts.add(row.host.toLowerCase());
      hostsOf.set(key, hosts);
    }
  }
  const warnings = [];
  for (const service of proposed) {
    for (const key of new Set(referencedKeys(service.auth))) {
      if (!existing.has(key)) continue;
      const previous = hostsOf.get(key) ?? new Set<string>();
      if (previous.has(service.host.toLowerCase())) continue;
      warnings.push({
        kind: "new_host_for_existing_credential" as const,
        service: service.name,
        host: service.host,
        key,
        previousHosts: [...previous].sort(),
        message: `Service ${service.name} would send the existing credential ${key} to ${service.host}, a host it ${previous.size ? `was not sent to before (only ${[...previous].sort().join(", ")})` : "has never been sent to"}. Approve only if you trust that host with ${key}.`,
      });
    }
  }
  return warnings;
}
