/**
 * A fake OAuth 2.0 provider (Node side), served by the fake upstream server (upstream.ts) under
 * a namespace per test, so each test has its own provider state:
 *
 *   GET  /oauth/<ns>/authorize      the consent step: redirects to redirect_uri with ?code&state
 *                                   (or ?error=access_denied&state when configured to deny)
 *   POST /oauth/<ns>/token          authorization_code (PKCE S256 checked) and refresh_token grants;
 *                                   client auth by client_secret_post or client_secret_basic
 *   GET  /oauth/<ns>/api            200 for a live access token in Authorization: Bearer, else 401
 *   POST /__oauth/<ns>/config       merge JSON into the namespace's config (see OAuthConfig)
 *   GET  /__oauth/<ns>/stats        counts of token-endpoint calls, and every token issued (tests
 *                                   search for them in the vault's answers, logs and audit rows)
 *   POST /__oauth/<ns>/expire       every access token issued so far stops working (a 401 upstream)
 */
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

export interface OAuthConfig {
  clientId: string;
  /** When set, the token endpoint requires it (by post or basic, whichever the client uses). */
  clientSecret?: string;
  /** Lifetime (s) of the access token of the code exchange, and of refreshed ones. */
  codeTtl: number;
  refreshTtl: number;
  /** Issue a new refresh token on every refresh (the old one stops working). */
  rotate: boolean;
  /** What the refresh grant answers: normally, invalid_grant, 200 {"error"}, 200 without a token, a 500. */
  refreshMode: "ok" | "invalid_grant" | "error200" | "empty" | "server_error";
  /** Delay (ms) before the token endpoint answers. */
  slowMs: number;
  /** The authorize step answers error=access_denied. */
  deny: boolean;
}

interface Namespace {
  config: OAuthConfig;
  codes: Map<string, { challenge: string; redirectUri: string; used: boolean }>;
  refreshTokens: Set<string>;
  accessTokens: Map<string, number>;
  issued: string[];
  stats: { tokenCalls: number; codeCalls: number; refreshCalls: number; clientAuth: string[]; grants: string[] };
}

const DEFAULTS: OAuthConfig = { clientId: "client-1", codeTtl: 3600, refreshTtl: 3600, rotate: true, refreshMode: "ok", slowMs: 0, deny: false };
const spaces = new Map<string, Namespace>();

function space(ns: string): Namespace {
  let entry = spaces.get(ns);
  if (!entry) {
    entry = { config: { ...DEFAULTS }, codes: new Map(), refreshTokens: new Set(), accessTokens: new Map(), issued: [], stats: { tokenCalls: 0, codeCalls: 0, refreshCalls: 0, clientAuth: [], grants: [] } };
    spaces.set(ns, entry);
  }
  return entry;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

const b64url = (buf: Buffer) => buf.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const token = (kind: string) => `${kind}-${randomBytes(18).toString("hex")}`;

/** Handles /oauth/<ns>/... and /__oauth/<ns>/...; false when the path is neither. */
export async function handleOAuth(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<boolean> {
  const control = /^\/__oauth\/([^/]+)\/(config|stats|expire)$/.exec(url.pathname);
  if (control) {
    const entry = space(control[1]!);
    if (control[2] === "config") {
      Object.assign(entry.config, JSON.parse(body || "{}") as Partial<OAuthConfig>);
      send(res, 200, entry.config);
    } else if (control[2] === "expire") {
      entry.accessTokens.clear();
      send(res, 200, { ok: true });
    } else {
      send(res, 200, { ...entry.stats, issued: entry.issued, liveRefreshTokens: entry.refreshTokens.size });
    }
    return true;
  }
  const match = /^\/oauth\/([^/]+)\/(authorize|token|api)$/.exec(url.pathname);
  if (!match) return false;
  const entry = space(match[1]!);
  const { config } = entry;
  if (match[2] === "authorize") {
    const redirect = url.searchParams.get("redirect_uri");
    const state = url.searchParams.get("state");
    if (!redirect || !state || url.searchParams.get("client_id") !== config.clientId || url.searchParams.get("response_type") !== "code") {
      send(res, 400, { error: "invalid_request" });
      return true;
    }
    const back = new URL(redirect);
    back.searchParams.set("state", state);
    if (config.deny) {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The user denied <access>");
    } else {
      if (url.searchParams.get("code_challenge_method") !== "S256") {
        send(res, 400, { error: "invalid_request", error_description: "PKCE S256 required" });
        return true;
      }
      const code = token("code");
      entry.codes.set(code, { challenge: url.searchParams.get("code_challenge") ?? "", redirectUri: redirect, used: false });
      back.searchParams.set("code", code);
    }
    res.writeHead(302, { location: back.toString() });
    res.end();
    return true;
  }
  if (match[2] === "api") {
    const auth = req.headers.authorization ?? "";
    const expires = entry.accessTokens.get(auth.replace(/^Bearer /, ""));
    if (expires === undefined || expires <= Date.now()) send(res, 401, { error: "invalid_token" });
    else send(res, 200, { ok: true });
    return true;
  }
  // The token endpoint.
  entry.stats.tokenCalls++;
  if (config.slowMs > 0) await new Promise((r) => setTimeout(r, config.slowMs));
  const form = new URLSearchParams(body);
  const grant = form.get("grant_type") ?? "";
  entry.stats.grants.push(grant);
  const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
  let clientId = form.get("client_id");
  let clientSecret = form.get("client_secret");
  if (basic) {
    const [id = "", secret = ""] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":").map((p) => decodeURIComponent(p.replace(/\+/g, " ")));
    clientId = id;
    clientSecret = secret;
    entry.stats.clientAuth.push("client_secret_basic");
  } else {
    entry.stats.clientAuth.push(clientSecret ? "client_secret_post" : "none");
  }
  if (clientId !== config.clientId || (config.clientSecret !== undefined && clientSecret !== config.clientSecret)) {
    send(res, 401, { error: "invalid_client" });
    return true;
  }
  const issue = (ttl: number, refresh: string | undefined) => {
    const access = token("at");
    entry.accessTokens.set(access, Date.now() + ttl * 1000);
    entry.issued.push(access);
    if (refresh) {
      entry.refreshTokens.add(refresh);
      entry.issued.push(refresh);
    }
    send(res, 200, { access_token: access, token_type: "Bearer", expires_in: ttl, ...(refresh ? { refresh_token: refresh } : {}), scope: "read write" });
  };
  if (grant === "authorization_code") {
    entry.stats.codeCalls++;
    const code = entry.codes.get(form.get("code") ?? "");
    const verifier = form.get("code_verifier") ?? "";
    if (!code || code.used || code.redirectUri !== form.get("redirect_uri") || b64url(createHash("sha256").update(verifier).digest()) !== code.challenge) {
      send(res, 400, { error: "invalid_grant", error_description: "bad code or verifier" });
      return true;
    }
    code.used = true;
    issue(config.codeTtl, token("rt"));
    return true;
  }
  if (grant === "refresh_token") {
    entry.stats.refreshCalls++;
    const presented = form.get("refresh_token") ?? "";
    if (config.refreshMode === "server_error") return send(res, 500, { message: "boom" }), true;
    if (config.refreshMode === "error200") return send(res, 200, { error: "temporarily_unavailable", error_description: `try later (${presented})` }), true;
    if (config.refreshMode === "empty") return send(res, 200, { access_token: "", token_type: "Bearer" }), true;
    if (config.refreshMode === "invalid_grant" || !entry.refreshTokens.has(presented)) {
      send(res, 400, { error: "invalid_grant", error_description: "refresh token revoked" });
      return true;
    }
    let next: string | undefined;
    if (config.rotate) {
      entry.refreshTokens.delete(presented);
      next = token("rt");
    }
    issue(config.refreshTtl, next);
    return true;
  }
  send(res, 400, { error: "unsupported_grant_type" });
  return true;
}

/** A refresh token the fake accepts, for paste tests (as if obtained elsewhere). */
export function mintRefreshToken(ns: string): string {
  const refresh = token("rt");
  const entry = space(ns);
  entry.refreshTokens.add(refresh);
  entry.issued.push(refresh);
  return refresh;
}
