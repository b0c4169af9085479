import type { Env } from "../env";
import { log } from "../log";
import { normalizeHost } from "./host-name";

// Pure, so the API schemas (and the typed client) can use it without this module's imports.
export { normalizeHost };

/**
 * Outbound URL policy. Targets must be http(s) without userinfo; hosts on loopback, private,
 * link-local, CGNAT, metadata and other special-purpose addresses, in IPv4 or IPv6 (mapped,
 * compatible, NAT64 and 6to4 forms included), are refused. Local development may open
 * loopback only (`allowLoopback`: 127.0.0.0/8, `[::1]` and `localhost`), never the private
 * ranges nor link-local/metadata (169.254.169.254 answers with cloud credentials). The URL parser normalises odd IPv4 literals (decimal, hex, octal,
 * short forms) to dotted quads before these checks run.
 *
 * Host names are normalised before any check: the URL parser percent-decodes them
 * (`localhost%2e%2e` is `localhost..`) and applies IDNA (full-width letters, soft hyphens,
 * punycode); then letters are lower-cased, the one trailing dot of a fully qualified name is
 * stripped, and a name with an empty label (`localhost..`, `a..b`, `.a`) is refused outright,
 * loopback allowed or not.
 */
export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const BLOCKED_HOST_SUFFIXES = [".localhost", ".localdomain", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp", ".svc"];
const BLOCKED_HOSTS = new Set(["localhost", "metadata.google.internal", "metadata", "instance-data", "kubernetes.default"]);

let warnedLegacySwitch = false;

/**
 * Whether tasks may target loopback (local development: `ALLOW_LOOPBACK_TARGETS=true` in the
 * generated .dev.vars). The former `ALLOW_PRIVATE_TARGETS=true` opened every private range;
 * it now means loopback only too, with a warning, so an old .dev.vars keeps working.
 */
export function allowLoopbackTargets(env: Pick<Env, "ALLOW_LOOPBACK_TARGETS" | "ALLOW_PRIVATE_TARGETS">): boolean {
  if (env.ALLOW_LOOPBACK_TARGETS === "true") return true;
  if (env.ALLOW_PRIVATE_TARGETS === "true") {
    if (!warnedLegacySwitch) {
      warnedLegacySwitch = true;
      log.warn("deprecated_setting", { name: "ALLOW_PRIVATE_TARGETS", meaning: "loopback targets only", replacement: "ALLOW_LOOPBACK_TARGETS=true" });
    }
    return true;
  }
  return false;
}

export function checkOutboundUrl(raw: string, allowLoopback: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "must use http or https" };
  if (url.username || url.password) return { ok: false, reason: "must not contain credentials (user:password@)" };
  if (!url.hostname) return { ok: false, reason: "must have a host" };
  const host = normalizeHost(url.hostname);
  if (host === undefined) return { ok: false, reason: "must not have an empty label in its host name" };
  if (allowLoopback && isLoopbackHost(host)) return { ok: true, url };
  if (BLOCKED_HOSTS.has(host) || BLOCKED_HOST_SUFFIXES.some((s) => host.endsWith(s))) {
    return { ok: false, reason: "points to a local or internal host" };
  }
  if (host.startsWith("[")) {
    if (isBlockedIpv6(host.slice(1, -1))) return { ok: false, reason: "points to a private or reserved address" };
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    if (isBlockedIpv4(host.split(".").map(Number))) return { ok: false, reason: "points to a private or reserved address" };
  } else if (!host.includes(".")) {
    return { ok: false, reason: "must be a fully qualified host name" };
  } else if (NUMERIC_LABEL.test(host.slice(host.lastIndexOf(".") + 1))) {
    // The parser turns every name ending in a number into an IPv4 address; anything left is a trick.
    return { ok: false, reason: "is not a valid IP address" };
  }
  return { ok: true, url };
}

/**
 * Loopback as local development means it: `localhost`, 127.0.0.0/8 and `[::1]`, spelled the
 * way the URL parser normalises them. Mapped forms (`[::ffff:127.0.0.1]`) and `*.localhost`
 * stay refused: a dev target has no reason to use them.
 */
function isLoopbackHost(host: string): boolean {
  if (host === "localhost" || host === "[::1]") return true;
  return /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A label the URL parser reads as a number (decimal, octal or hex). */
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/;

export function isBlockedIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  return (
    a === 0 || // "this network"
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || // IETF protocol assignments, TEST-NET-1
    (a === 192 && b === 88 && c === 99) || // 6to4 relay anycast
    (a === 198 && (b === 18 || b === 19)) || // benchmarking
    (a === 198 && b === 51 && c === 100) || // TEST-NET-2
    (a === 203 && b === 0 && c === 113) || // TEST-NET-3
    a >= 224 // multicast, reserved, broadcast
  );
}

function parseIpv6(text: string): number[] | undefined {
  let s = text.toLowerCase();
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  // A trailing dotted quad (::ffff:1.2.3.4) becomes two hextets.
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const parts = [...head, ...Array<string>(Math.max(fill, 0)).fill("0"), ...tail];
  if (parts.length !== 8 || parts.some((p) => !/^[0-9a-f]{1,4}$/.test(p))) return undefined;
  return parts.map((p) => parseInt(p, 16));
}

export function isBlockedIpv6(text: string): boolean {
  const h = parseIpv6(text);
  if (!h) return true; // unparseable: refuse rather than guess
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h;
  const embedded = [h6 >> 8, h6 & 0xff, h7 >> 8, h7 & 0xff];
  if (h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0) {
    if (h5 === 0 && h6 === 0 && (h7 === 0 || h7 === 1)) return true; // :: and ::1
    if (h5 === 0xffff || h5 === 0) return isBlockedIpv4(embedded); // IPv4-mapped / -compatible
  }
  if (h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0xffff && h5 === 0) return isBlockedIpv4(embedded); // IPv4-translated
  if (h0 === 0x64 && h1 === 0xff9b) return isBlockedIpv4(embedded); // NAT64
  if (h0 === 0x2002) return isBlockedIpv4([h1 >> 8, h1 & 0xff, h2 >> 8, h2 & 0xff]); // 6to4
  if ((h0 & 0xfe00) === 0xfc00) return true; // unique local
  if ((h0 & 0xffc0) === 0xfe80 || (h0 & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((h0 & 0xff00) === 0xff00) return true; // multicast
  if (h0 === 0x2001 && h1 === 0x0db8) return true; // documentation
  if (h0 === 0x2001 && h1 < 0x0200) return true; // Teredo and other IETF special-purpose blocks
  if (h0 === 0x0100 && h1 === 0 && h2 === 0 && h3 === 0) return true; // discard-only
  return false;
}
