/**
 * API key scopes (the "OAuth scope requirements" of seed 000's API reference). A key carries
 * a subset; each /v1 route requires one. Keys are created with all scopes unless narrowed.
 */
export const ALL_SCOPES = ["tokens:read", "tokens:write", "tasks:read", "tasks:write", "audit:read"] as const;
export type Scope = (typeof ALL_SCOPES)[number];

export function parseScopes(stored: string): Scope[] {
  return stored.split(/\s+/).filter((s): s is Scope => (ALL_SCOPES as readonly string[]).includes(s));
}
