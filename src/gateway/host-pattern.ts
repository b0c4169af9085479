import { checkOutboundUrl } from "../outbound/url-policy";
import { normalizeHost } from "../outbound/host-name";
import type { HostPattern } from "./types";

/**
 * A service's host pattern: `api.stripe.com`, `*.github.com` (one level), optionally a port
 * (`api.example.com:8443`) and a path glob (`slack.com/api/*`). The host must be one the
 * outbound URL policy would let a task reach: no IP literal, no internal name (`localhost`,
 * `*.internal`, `metadata.google.internal`...), unless local development's loopback switch is
 * on, and then loopback only. A bare `*`, or a wildcard over a single label (`*.com`), binds
 * nothing useful and is refused.
 */
export type PatternVerdict = { ok: true; pattern: HostPattern } | { ok: false; reason: string };

const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const NAME = new RegExp(`^(?:${LABEL}\\.)*${LABEL}$`);
// Two-label public suffixes a wildcard must not sit directly on (`*.co.uk` is `*.com` again).
const SHARED_SUFFIXES = new Set(["co.uk", "org.uk", "ac.uk", "gov.uk", "com.au", "net.au", "org.au", "co.jp", "co.nz", "com.br", "co.in", "co.za", "com.cn", "com.mx", "github.io", "workers.dev", "pages.dev", "herokuapp.com", "vercel.app", "netlify.app", "appspot.com", "cloudfront.net", "amazonaws.com", "azurewebsites.net", "blogspot.com"]);

export function parseHostPattern(raw: string, allowLoopback: boolean): PatternVerdict {
  const text = raw.trim();
  if (text === "") return { ok: false, reason: "must not be empty" };
  if (/[\s?#@\\]/.test(text) || text.includes("://")) return { ok: false, reason: "must be a host name with an optional :port and /path, not a URL" };
  const slash = text.indexOf("/");
  const authority = slash < 0 ? text : text.slice(0, slash);
  const path = slash < 0 ? null : text.slice(slash);
  if (path !== null && !/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/.test(path)) return { ok: false, reason: "has a path with characters a URL path cannot carry" };

  let hostPart = authority;
  let port: number | null = null;
  const portMatch = /^(.*):(\d{1,5})$/.exec(authority);
  if (portMatch && !authority.startsWith("[")) {
    hostPart = portMatch[1] as string;
    port = Number(portMatch[2]);
    if (port < 1 || port > 65535) return { ok: false, reason: "has a port outside 1-65535" };
  } else if (/^\[[^\]]*\](?::\d{1,5})?$/.test(authority)) {
    const v6 = /^(\[[^\]]*\])(?::(\d{1,5}))?$/.exec(authority) as RegExpExecArray;
    hostPart = v6[1] as string;
    port = v6[2] === undefined ? null : Number(v6[2]);
  }

  if (hostPart === "*" || hostPart === "*.") return { ok: false, reason: "must not be a bare *: name the host" };
  const wildcard = hostPart.startsWith("*.");
  const name = normalizeHost(wildcard ? hostPart.slice(2) : hostPart);
  if (name === undefined || name.includes("*")) return { ok: false, reason: "must be a host name, or *. followed by one (one level)" };
  if (wildcard) {
    if (!name.includes(".") || SHARED_SUFFIXES.has(name)) return { ok: false, reason: "must not be a wildcard over a public suffix (such as *.com)" };
  }

  // The policy decides what may be reached; a wildcard is checked through a label in its place.
  const probe = `https://${wildcard ? `x.${name}` : name}${port === null ? "" : `:${port}`}/`;
  const verdict = checkOutboundUrl(probe, allowLoopback);
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  const loopback = allowLoopback && (name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name));
  if (!loopback) {
    if (name.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(name)) return { ok: false, reason: "must be a host name, not an IP address" };
    if (!NAME.test(name)) return { ok: false, reason: "must be a host name" };
  }
  return { ok: true, pattern: { host: name, wildcard, port, path } };
}

/** Whether a request to host:port/path matches the pattern. `host` is normalised. */
export function patternMatches(pattern: HostPattern, host: string, port: number, path: string): boolean {
  if (pattern.wildcard) {
    const suffix = `.${pattern.host}`;
    if (!host.endsWith(suffix)) return false;
    const label = host.slice(0, -suffix.length);
    if (label === "" || label.includes(".")) return false;
  } else if (host !== pattern.host) {
    return false;
  }
  if (pattern.port !== null && pattern.port !== port) return false;
  return pattern.path === null || pathGlobMatches(pattern.path, path);
}

/** `*` matches any run of characters (slashes included); everything else is literal. */
export function pathGlobMatches(glob: string, path: string): boolean {
  const source = glob.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`).test(path);
}

/** The literal prefix of a path glob (what "the longer literal path prefix wins" compares). */
export function literalPrefixLength(pattern: HostPattern): number {
  if (pattern.path === null) return 0;
  const star = pattern.path.indexOf("*");
  return star < 0 ? pattern.path.length : star;
}
