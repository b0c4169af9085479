import { readUpTo } from "../http/stream";
import { classifyNetworkError, describeNetworkFailure } from "../outbound/network-errors";
import { checkOutboundUrl } from "../outbound/url-policy";
import { isSendableHeaderValue } from "../vault/values";

/**
 * One outbound HTTP exchange on behalf of a task: a per-attempt timeout, redirects followed
 * by hand (each hop re-checked against the URL policy; credential headers dropped as soon as
 * a hop leaves the original origin), and the response body read up to a limit.
 */
/** How much of a body is read: enough past the stored limit (outbound/redact) to redact a secret straddling it. */
export const READ_LIMIT = 2 * 1024 * 1024;
const MAX_REDIRECTS = 5;
/** Headers that never follow a redirect to another origin, as in the Fetch standard. */
const ORIGIN_BOUND_HEADERS = ["authorization", "cookie", "proxy-authorization"];

export interface CallRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Lower-cased names of headers that carry resolved credentials. */
  credentialHeaders: string[];
  body?: string;
  timeoutMs: number;
  allowLoopback: boolean;
  /**
   * Whether a URL may receive the request's credentials (their `allowedHosts`): checked on the
   * target and on every redirect hop, failing closed, before anything is sent there.
   */
  credentialsAllowedAt?: (url: string) => boolean;
  /** Bytes of the response body to read (the caller stores less; see READ_LIMIT). */
  readLimit?: number;
}

export type CallOutcome =
  | { kind: "response"; status: number; headers: Record<string, string>; body: string; bodyBytes: number; truncated: boolean; durationMs: number; finalUrl: string }
  | { kind: "timeout"; durationMs: number }
  | { kind: "network"; message: string; durationMs: number }
  | { kind: "blocked"; message: string; durationMs: number };

export async function callOut(req: CallRequest): Promise<CallOutcome> {
  const started = Date.now();
  // The target is checked again at execution: the policy may have changed since creation.
  const first = checkOutboundUrl(req.url, req.allowLoopback);
  if (!first.ok) return { kind: "blocked", message: `target URL ${first.reason}`, durationMs: 0 };
  if (req.credentialsAllowedAt && !req.credentialsAllowedAt(req.url)) {
    return { kind: "blocked", message: "target URL is not among the allowed hosts of a credential it references; no request was made", durationMs: 0 };
  }
  // A value the runtime cannot send as is would be logged by it in full, and echoed back in a
  // form redaction cannot recognise: refuse before fetch, naming the header, never the value.
  const unsendable = Object.entries(req.headers).find(([, value]) => !isSendableHeaderValue(value));
  if (unsendable) {
    return { kind: "blocked", message: `request not sent: header ${unsendable[0]} has a value that is not printable ASCII (RFC 9110 header field value)`, durationMs: 0 };
  }
  const signal = AbortSignal.timeout(req.timeoutMs);
  const origin = new URL(req.url).origin;
  let url = req.url;
  let method = req.method;
  let body = method === "GET" ? undefined : req.body;
  let headers = { ...req.headers };
  try {
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, { method, headers, body, redirect: "manual", signal });
      const location = response.headers.get("location");
      if (response.status >= 300 && response.status < 400 && location && hop < MAX_REDIRECTS) {
        await response.body?.cancel();
        const next = new URL(location, url).toString();
        const verdict = checkOutboundUrl(next, req.allowLoopback);
        if (!verdict.ok) return { kind: "blocked", message: `redirect target ${verdict.reason}`, durationMs: Date.now() - started };
        if (req.credentialsAllowedAt && !req.credentialsAllowedAt(next)) {
          return { kind: "blocked", message: "redirect target is not among the allowed hosts of a credential the task references; not followed", durationMs: Date.now() - started };
        }
        if (new URL(next).origin !== origin) {
          // Never carry resolved credentials to another origin.
          const dropped = new Set([...req.credentialHeaders, ...ORIGIN_BOUND_HEADERS]);
          headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !dropped.has(name.toLowerCase())));
        }
        if (response.status === 303 || ((response.status === 301 || response.status === 302) && method !== "GET" && method !== "HEAD")) {
          method = "GET";
          body = undefined;
        }
        url = next;
        continue;
      }
      const { text, bytes, truncated } = await readCapped(response, req.readLimit ?? READ_LIMIT);
      return {
        kind: "response",
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: text,
        bodyBytes: bytes,
        truncated,
        durationMs: Date.now() - started,
        finalUrl: url,
      };
    }
  } catch (error) {
    const durationMs = Date.now() - started;
    if (signal.aborted) return { kind: "timeout", durationMs };
    const raw = error instanceof Error ? error.message : "network error";
    const target = new URL(url);
    return { kind: "network", message: describeNetworkFailure(await classifyNetworkError(raw, target), target, raw), durationMs: Date.now() - started };
  }
}

async function readCapped(response: Response, limit: number): Promise<{ text: string; bytes: number; truncated: boolean }> {
  const { bytes, overflowed } = await readUpTo(response.body, limit, "cancel");
  return { text: new TextDecoder().decode(bytes), bytes: bytes.byteLength, truncated: overflowed };
}
