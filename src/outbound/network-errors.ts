import { connect } from "cloudflare:sockets";

/**
 * Why an outbound fetch failed, in words a user can act on. workerd reports a refused or reset
 * connection as "Network connection lost." and hides DNS and TLS failures behind
 * "internal error; reference = <id>" (the detail goes to its own log only). For the latter a
 * bare TCP connection to the same host and port (nothing is sent on it; the target already
 * passed the URL policy) tells them apart: it fails when the name does not resolve, and
 * opens when the failure came after the connection (a TLS handshake over https).
 */
export type NetworkFailure = "connection_refused" | "dns" | "tls" | "unknown";

const PROBE_TIMEOUT_MS = 3_000;

export function describeNetworkFailure(kind: NetworkFailure, url: URL, raw: string): string {
  const where = url.host;
  switch (kind) {
    case "connection_refused":
      return `connection refused or reset by ${where} (nothing listening on that port, or the connection was dropped)`;
    case "dns":
      return `DNS lookup failed: ${url.hostname} does not resolve`;
    case "tls":
      return `TLS handshake with ${where} failed (invalid or self-signed certificate, or the port does not speak TLS)`;
    case "unknown":
      return `could not reach ${where}: ${raw}`;
  }
}

/** The category of a fetch() rejection (the timeout is handled by the caller, from its signal). */
export async function classifyNetworkError(message: string, url: URL): Promise<NetworkFailure> {
  if (/network connection lost|connection refused|ECONNREFUSED|ECONNRESET/i.test(message)) return "connection_refused";
  if (/dns lookup failed|name or service not known|ENOTFOUND/i.test(message)) return "dns";
  if (/tls|ssl|certificate/i.test(message)) return "tls";
  if (!/internal error/i.test(message)) return "unknown";
  const opened = await tcpOpens(url);
  if (opened === undefined) return "unknown";
  if (!opened) return "dns";
  return url.protocol === "https:" ? "tls" : "unknown";
}

/** Whether a TCP connection to the URL's host and port opens (undefined: no answer in time). */
async function tcpOpens(url: URL): Promise<boolean | undefined> {
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const socket = connect({ hostname: url.hostname.replace(/^\[|\]$/g, ""), port });
    // `closed` rejects too when the connection fails; observed here so it is never unhandled.
    socket.closed.catch(() => undefined);
    const opened = socket.opened.then(
      () => true,
      () => false,
    );
    const late = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), PROBE_TIMEOUT_MS)));
    const verdict = await Promise.race([opened, late]);
    socket.close().catch(() => undefined);
    return verdict;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
