import { normalizeHost } from "../outbound/host-name";

/**
 * Host binding (issue 10, section 3): a credential may carry `allowedHosts`, exact host names
 * or one-level wildcards (`*.example.com` matches `api.example.com`, not `example.com` nor
 * `a.b.example.com`). Unset means unrestricted (seed 000). Patterns are normalised the way the
 * URL policy normalises hosts, so `API.Example.com.` and `api.example.com` are one host.
 */
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const HOST_PATTERN = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

/** The normalised pattern, or undefined when it is not a host name or a `*.` wildcard of one. */
export function normalizeHostPattern(raw: string): string | undefined {
  const value = raw.trim().toLowerCase().replace(/\.$/, "");
  if (!HOST_PATTERN.test(value)) return undefined;
  // A wildcard needs at least two labels after it (`*.com` would bind nothing useful).
  if (value.startsWith("*.") && value.split(".").length < 3) return undefined;
  return value;
}

export function hostMatches(host: string, pattern: string): boolean {
  if (!pattern.startsWith("*.")) return host === pattern;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes(".") && host.length > suffix.length;
}

/** True when `url` may carry a credential bound to `allowed` (null: unbound). Fails closed on a bad URL. */
export function urlAllowedFor(url: string, allowed: readonly string[] | null): boolean {
  if (allowed === null) return true;
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  const host = normalizeHost(hostname);
  if (host === undefined) return false;
  return allowed.some((pattern) => hostMatches(host, pattern));
}

export function parseAllowedHosts(stored: string | null): string[] | null {
  if (stored === null) return null;
  const parsed = JSON.parse(stored) as unknown;
  return Array.isArray(parsed) ? parsed.filter((h): h is string => typeof h === "string") : [];
}
