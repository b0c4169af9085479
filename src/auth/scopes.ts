/**
 * API key scopes (the "OAuth scope requirements" of seed 000's API reference). A key carries
 * a subset; each /v1 route requires one. Keys are created with DEFAULT_SCOPES unless narrowed
 * or widened: `secrets:reveal` (read a value back: named secrets, leases) is never implied,
 * neither for new keys nor for keys stored before it existed (their scope string is kept as is).
 */
export const ALL_SCOPES = [
  "tokens:read",
  "tokens:write",
  "tasks:read",
  "tasks:write",
  "audit:read",
  "secrets:read",
  "secrets:write",
  "secrets:reveal",
  // The agent gateway (issue 11): call through the proxy; list a vault's KEYs, services and log;
  // change them; propose changes for a human to approve.
  "proxy:use",
  "vault:read",
  "vault:write",
  "proposals:write",
] as const;
export type Scope = (typeof ALL_SCOPES)[number];
export const DEFAULT_SCOPES: readonly Scope[] = ALL_SCOPES.filter((s) => s !== "secrets:reveal");

export function parseScopes(stored: string): Scope[] {
  return stored.split(/\s+/).filter((s): s is Scope => (ALL_SCOPES as readonly string[]).includes(s));
}

/** What an agent key (role `agent`) carries: use the proxy, list KEYs and services, propose. Never a value. */
export const AGENT_SCOPES: readonly Scope[] = ["proxy:use", "vault:read", "proposals:write"];
