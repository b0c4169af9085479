import { AGENT_SCOPES } from "../auth/scopes";
import type { VaultContext } from "../context";
import { AppError } from "../errors";
import { createApiKey } from "../teams/teams";
import { parseTtl } from "../vault/store";

/**
 * Short-lived agent tokens (issue 11 section 5): an agent key of the vault that expires by
 * itself, so a leaked one dies on its own. Any member may mint one; it counts as one of the
 * team's API keys until it expires.
 */
export const MIN_AGENT_TTL_SECONDS = 5 * 60;
export const MAX_AGENT_TTL_SECONDS = 7 * 24 * 3600;

export async function mintAgentToken(ctx: VaultContext, input: { name: string; ttl: string | number }) {
  const seconds = parseTtl(input.ttl);
  if (seconds === undefined || seconds < MIN_AGENT_TTL_SECONDS || seconds > MAX_AGENT_TTL_SECONDS) {
    throw new AppError("validation_failed", "Invalid request body", { issues: [{ path: "ttl", message: 'ttl must be 5 minutes to 7 days: seconds (300-604800), or "5m", "1h", "7d"' }] });
  }
  const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
  const created = await createApiKey(ctx, ctx.team.id, input.name, AGENT_SCOPES, [], { role: "agent", expiresAt, audit: { action: "agent_token.created" } });
  const { apiKey } = created;
  return {
    apiKey: { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, role: "agent" as const, scopes: apiKey.scopes, createdAt: apiKey.createdAt, expiresAt },
    key: created.key,
    expiresAt,
  };
}
