/**
 * The one store's shared rules, as SQL fragments and small helpers that every view uses
 * (tokens, named secrets, credentials), so no view re-implements ownership, expiry or versions.
 *
 * A row of `tokens` is one credential: its kind says which view made it, its current version's
 * ciphertext is on the row, older versions are in `credential_versions`.
 */
export type CredentialKind = "token" | "secret" | "credential" | "vault_key";

/**
 * The label a version's ciphertext is bound to (the cipher's AAD names it with the team and the
 * master key version). Version 1 is the token id alone, which is what every row sealed before
 * versions existed is bound to; later versions add `#v<n>`, so a rotated version's ciphertext
 * cannot be swapped in for another version of the same credential.
 */
export function versionLabel(tokenId: string, version: number): string {
  return version === 1 ? tokenId : `${tokenId}#v${version}`;
}

/**
 * Who may use a credential in a task (the `t` alias is the tokens row; one parameter: the API
 * key the task acts for): tokens and credentials belong to the team; a named secret only if
 * it is app-level and assigned to that key (user-level secrets never reach tasks).
 */
export const USABLE_BY_KEY = `(t.kind <> 'secret' OR (t.owner_type = 'app' AND EXISTS (SELECT 1 FROM secret_assignments a WHERE a.token_id = t.id AND a.api_key_id = ?)))`;

/** Not past its expiry (one parameter: now, ISO). */
export const NOT_EXPIRED = `(t.expires_at IS NULL OR t.expires_at > ?)`;

export const isExpired = (expiresAt: string | null, now = Date.now()) => expiresAt !== null && Date.parse(expiresAt) <= now;

export function parseJsonArray(stored: string | null): string[] {
  if (!stored) return [];
  const parsed = JSON.parse(stored) as unknown;
  return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === "string") : [];
}

export function parseJsonObject(stored: string | null): Record<string, unknown> {
  if (!stored) return {};
  const parsed = JSON.parse(stored) as unknown;
  return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

/** TTLs as seed 004 writes them: "90s", "15m", "4h", "7d", or a number of seconds. */
export function parseTtl(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value : undefined;
  const match = /^\s*(\d{1,9})\s*([smhd]?)\s*$/.exec(value);
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as "" | "s" | "m" | "h" | "d"];
  const seconds = n * unit;
  return seconds > 0 && seconds <= 10 * 365 * 86400 ? seconds : undefined;
}
