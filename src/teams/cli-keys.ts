import { DEFAULT_SCOPES, type Scope } from "../auth/scopes";
import type { VaultContext } from "../context";
import { AppError } from "../errors";
import { parseTtl } from "../vault/store";
import type { Role } from "./roles";
import { createApiKey } from "./teams";

/**
 * CLI keys: a signed-in person's short-lived standard key for the routes that take only API keys
 * (/v1/tokens, tasks, credentials, leases, audit), so `token-vault login` then `token list`
 * works. Minted by user sessions only (a key cannot mint a key), with the scopes of the caller's
 * role and never `secrets:reveal`; they expire by themselves and are not the plan's API keys
 * (their own bound of 100 unexpired, teams.ts createApiKey).
 */
export const MIN_CLI_KEY_TTL_SECONDS = 5 * 60;
export const MAX_CLI_KEY_TTL_SECONDS = 3600;
export const DEFAULT_CLI_KEY_TTL_SECONDS = MIN_CLI_KEY_TTL_SECONDS;

/** Members read; admins and owners get what a new key gets (which never includes secrets:reveal). */
export const MEMBER_CLI_SCOPES: readonly Scope[] = ["tokens:read", "tasks:read", "audit:read", "secrets:read", "vault:read"];

export function cliKeyScopes(role: Role): readonly Scope[] {
  return role === "member" ? MEMBER_CLI_SCOPES : DEFAULT_SCOPES.filter((s) => s !== "secrets:reveal");
}

export async function mintCliKey(ctx: VaultContext, input: { ttl?: string | number | undefined }) {
  if (ctx.actor.type !== "user" || !ctx.vaultRole) {
    throw new AppError("access_denied", "Only a signed-in member mints a CLI key; an API key cannot mint another");
  }
  const seconds = input.ttl === undefined ? DEFAULT_CLI_KEY_TTL_SECONDS : parseTtl(input.ttl);
  if (seconds === undefined || seconds < MIN_CLI_KEY_TTL_SECONDS || seconds > MAX_CLI_KEY_TTL_SECONDS) {
    throw new AppError("validation_failed", "Invalid request body", { issues: [{ path: "ttl", message: 'ttl must be 5 minutes to 1 hour: seconds (300-3600), or "5m", "1h"' }] });
  }
  const expiresAt = new Date(Date.now() + seconds * 1000).toISOString();
  const scopes = cliKeyScopes(ctx.vaultRole);
  const created = await createApiKey(ctx, ctx.team.id, `CLI (${ctx.actor.email})`, scopes, [], { role: "standard", expiresAt, audit: { action: "cli_key.created" } });
  const { apiKey } = created;
  return {
    apiKey: { id: apiKey.id, name: apiKey.name, prefix: apiKey.prefix, role: "standard" as const, scopes: apiKey.scopes, createdAt: apiKey.createdAt, expiresAt },
    key: created.key,
    expiresAt,
  };
}
