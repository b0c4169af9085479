import { ID_BODY } from "../ids";

/**
 * Vault references in task headers. A header value that is exactly `tok_...` or contains one
 * as a word (`Bearer tok_...`, `Key tok_...`) is a reference; other headers pass unchanged.
 * References in bodies are deliberately not resolved.
 */
const REFERENCE = new RegExp(`(?<![\\w-])tok_${ID_BODY}(?![\\w-])`, "g");

export function referencesIn(headers: Record<string, string>): string[] {
  const found = new Set<string>();
  for (const value of Object.values(headers)) for (const match of value.matchAll(REFERENCE)) found.add(match[0]);
  return [...found];
}

/** Header names whose values hold a reference: they are the credentials of the request. */
export function credentialHeaderNames(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([, value]) => new RegExp(REFERENCE.source).test(value))
    .map(([name]) => name.toLowerCase());
}

export function substitute(headers: Record<string, string>, values: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value.replace(REFERENCE, (ref) => {
      const resolved = values.get(ref);
      if (resolved === undefined) throw new Error(`unresolved reference ${ref}`);
      return resolved;
    });
  }
  return out;
}

export const REDACTED = "[REDACTED]";
/** Values shorter than this are not redacted: they would match ordinary text. */
const MIN_REDACT_LENGTH = 6;

/** Replaces every occurrence of a resolved secret, e.g. a target echoing a credential back. */
export function redact(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_REDACT_LENGTH) continue;
    out = out.split(secret).join(REDACTED);
    // Also catch the secret as it would appear inside a JSON string.
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.split(escaped).join(REDACTED);
  }
  return out;
}
