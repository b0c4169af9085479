import { authenticateKey, touchApiKey, type ApiKeyAuth } from "../auth/apikeys";
import type { ContextTeam } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { toErrorResponse } from "../http/errors";
import { rateLimitHeaders } from "../http/rate-limit-headers";
import { newId } from "../ids";
import { log } from "../log";
import { normalizeHost } from "../outbound/host-name";
import { classifyNetworkError, describeNetworkFailure } from "../outbound/network-errors";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import { urlAllowedFor } from "../vault/hosts";
import { findAgentKey } from "./agent-key";
import type { AuditBy } from "../oauth/store";
import { gatewaySnapshot, type GatewaySnapshot } from "./cache";
import { credentialValue } from "./credential-value";
import { authHeaders, downstreamHeaders, inject, upstreamHeaders } from "./headers";
import { parseIngress, type Ingress } from "./ingress";
import { matchService } from "./match";
import { recordProxyRequest } from "./request-log";
import { referencedKeys, type ServiceRule } from "./types";

/**
 * The credential-injecting proxy (issue 11, section 4). An agent calls a third-party API
 * through the vault with its own vault key; the vault authenticates the key (the team's gate,
 * one RPC that also counts the request against the team's rate limit and answers the team's
 * gateway version), finds the service for the target (isolate cache: no D1 query on the warm
 * path), injects the service's credential, and streams the exchange both ways. Redirects are
 * handed back to the client, never followed; the outbound URL policy applies to every target.
 *
 * Every refusal is the API's JSON error plus `X-Vault-Proxy-Error: true`, so an agent can tell
 * the vault's answer from the upstream's. Rate-limit headers are sent on the vault's 429 only:
 * on a forwarded answer they would shadow the upstream's own (GitHub's share their names).
 */
export const PROXY_ERROR_HEADER = "X-Vault-Proxy-Error";
export const PROXY_AUTHENTICATE = 'Bearer realm="token-vault", charset="UTF-8"';

/** Per-request facts the log row and the error answer need, filled in as they become known. */
interface Exchange {
  requestId: string;
  started: number;
  auth?: ApiKeyAuth;
  decision?: RateLimitDecision;
  host?: string;
  path?: string;
  service?: string;
  keys: string[];
}

export async function handleProxy(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
  const exchange: Exchange = { requestId: newId.request(), started: Date.now(), keys: [] };
  let response: Response;
  let errorCode: string | null = null;
  try {
    response = await forward(request, env, exec, exchange);
  } catch (error) {
    response = toErrorResponse(error, exchange.requestId);
    errorCode = error instanceof AppError ? error.code : "internal_error";
    response.headers.set(PROXY_ERROR_HEADER, "true");
    if (response.status === 407) response.headers.set("Proxy-Authenticate", PROXY_AUTHENTICATE);
    if (response.status === 429 && exchange.decision) {
      for (const [name, value] of Object.entries(rateLimitHeaders(exchange.decision))) response.headers.set(name, value);
    }
  }
  response.headers.set("X-Request-Id", exchange.requestId);
  const ms = Date.now() - exchange.started;
  // The route pattern, never the raw path or query (a pasted secret could sit in either).
  log.info("request", { requestId: exchange.requestId, method: request.method, route: new URL(request.url).pathname.startsWith("/s/") ? "/s/:service/*" : "/proxy/:host/*", status: response.status, ms });
  if (exchange.auth) {
    recordProxyRequest(env, exec, {
      teamId: exchange.auth.team.id,
      apiKeyId: exchange.auth.apiKeyId,
      method: request.method,
      host: exchange.host ?? "",
      path: exchange.path ?? "",
      service: exchange.service ?? null,
      credentialKeys: exchange.keys,
      status: response.status,
      errorCode,
      durationMs: ms,
    });
  }
  return response;
}

async function forward(request: Request, env: Env, exec: ExecutionContext, exchange: Exchange): Promise<Response> {
  // 1. Who: the agent's vault key, wherever it sits.
  const agentKey = findAgentKey(request.headers);
  if (!agentKey) throw new AppError("proxy_auth_required");
  const admitted = await authenticateKey(env, agentKey).catch((error: unknown) => {
    if (error instanceof AppError && error.code === "invalid_api_key") throw new AppError("proxy_auth_required", "Invalid, expired or revoked vault key");
    throw error;
  });
  const { auth, decision } = admitted;
  exchange.auth = auth;
  exchange.decision = decision;
  if (admitted.touch) touchApiKey(env.DB, auth, exec);
  if (!decision.allowed) throw new AppError("rate_limited", undefined, {}, { retryAfterSeconds: decision.retryAfter });
  if (!auth.scopes.includes("proxy:use")) throw new AppError("insufficient_scope", "This API key lacks the scope proxy:use", { requiredScope: "proxy:use" });

  // 2. Where: the target and the service for it.
  const url = new URL(request.url);
  const ingress = parseIngress(url);
  if (!ingress) throw new AppError("validation_failed", "Name the target: /proxy/{host}/{path} or /s/{service}/{path}", { issues: [{ path: "params.target", message: "is missing" }] });
  const snapshot = await gatewaySnapshot(env, auth.team.id, admitted.gatewayVersion);
  const loopback = allowLoopbackTargets(env);
  const { target, rule } = resolveTarget(ingress, snapshot, loopback);
  exchange.host = target.host;
  exchange.path = target.pathname;
  const verdict = checkOutboundUrl(target.href, loopback);
  if (!verdict.ok) throw new AppError("url_not_allowed", `The target ${verdict.reason}`, { field: "target" });

  // 3. What to inject.
  const outbound = upstreamHeaders(request.headers, agentKey);
  const by = { actor: { type: "api_key" as const, id: auth.apiKeyId, role: auth.role }, requestId: exchange.requestId };
  let values: Map<string, string> | undefined;
  if (rule) {
    exchange.service = rule.name;
    if (!rule.enabled) throw new AppError("service_disabled", `The service ${rule.name} is disabled`, { service: rule.name });
    values = await credentialValues(env, auth.team, snapshot, rule, target, exchange, by);
    inject(outbound, authHeaders(rule.auth, values));
  } else if (snapshot.unmatchedPolicy !== "passthrough") {
    throw new AppError("no_matching_service", `No service matches ${target.host}`, {
      host: target.host,
      hint: `No service of this vault matches the host ${target.host}. Ask a vault admin to add one, or propose it with POST /v1/proposals.`,
    });
  }

  // 4. The exchange, streamed both ways; a redirect goes back to the client.
  const send = async (): Promise<Response> => {
    try {
      return await fetch(target.href, {
        method: request.method,
        headers: outbound,
        body: request.method === "GET" || request.method === "HEAD" ? null : request.body,
        redirect: "manual",
      });
    } catch (error) {
      const raw = error instanceof Error ? error.message : String(error);
      const why = describeNetworkFailure(await classifyNetworkError(raw, target), target, raw);
      throw new AppError("upstream_error", `The upstream could not be reached: ${why}`, { host: target.host });
    }
  };
  let upstream = await send();
  // An OAuth access token refused (401) to a request safe to repeat: one forced refresh, one retry.
  const oauthKeys = rule && values ? [...values.keys()].filter((key) => snapshot.credentials.get(key)?.type === "oauth") : [];
  if (upstream.status === 401 && (request.method === "GET" || request.method === "HEAD") && rule && values && oauthKeys.length > 0) {
    await upstream.body?.cancel();
    for (const key of oauthKeys) {
      const credential = snapshot.credentials.get(key)!;
      values.set(key, await credentialValue(env, auth.team, credential, Date.now(), { by, rejectedToken: values.get(key)! }));
    }
    inject(outbound, authHeaders(rule.auth, values));
    upstream = await send();
  }
  const headers = downstreamHeaders(upstream.headers);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}

/** The outbound URL and the service it goes to (undefined: none matches). */
function resolveTarget(ingress: Ingress, snapshot: GatewaySnapshot, loopback: boolean): { target: URL; rule: ServiceRule | undefined } {
  if (ingress.form === "service") {
    const rule = snapshot.rules.find((r) => r.name === ingress.service);
    const refuse = (why: string) =>
      new AppError("no_matching_service", why, {
        service: ingress.service,
        hint: `This vault has no service named ${ingress.service} reachable by /s/; list them with GET /v1/vaults/:vault/services, or propose one with POST /v1/proposals.`,
      });
    if (!rule) throw refuse(`No service named ${ingress.service}`);
    if (rule.pattern.wildcard) throw refuse(`The service ${rule.name} has a wildcard host: call it with /proxy/{host}/...`);
    const target = targetUrl(`${rule.pattern.host}${rule.pattern.port === null ? "" : `:${rule.pattern.port}`}`, ingress.path, ingress.search, loopback);
    // A service with a path glob serves only the paths it names.
    const port = Number(target.port || (target.protocol === "http:" ? 80 : 443));
    const host = normalizeHost(target.hostname) ?? target.hostname;
    if (matchService([rule], host, port, target.pathname) === undefined) throw refuse(`The service ${rule.name} does not serve the path ${target.pathname}`);
    return { target, rule };
  }
  const target = targetUrl(ingress.authority, ingress.path, ingress.search, loopback);
  const host = normalizeHost(target.hostname);
  if (host === undefined) throw new AppError("url_not_allowed", "The target must not have an empty label in its host name", { field: "target" });
  const port = Number(target.port || (target.protocol === "http:" ? 80 : 443));
  return { target, rule: matchService(snapshot.rules, host, port, target.pathname) };
}

/** https, except a loopback host under local development's switch (plain http there). */
function targetUrl(authority: string, path: string, search: string, loopback: boolean): URL {
  let url: URL;
  try {
    url = new URL(`https://${authority}${path}${search}`);
  } catch {
    throw new AppError("url_not_allowed", "The target is not a valid host", { field: "target" });
  }
  if (url.username || url.password || url.host.toLowerCase() !== authority.toLowerCase().replace(/:443$/, "")) {
    throw new AppError("url_not_allowed", "The target must be a host name with an optional port", { field: "target" });
  }
  const host = normalizeHost(url.hostname);
  if (loopback && (host === "localhost" || host === "[::1]" || (host !== undefined && /^127\.\d+\.\d+\.\d+$/.test(host)))) {
    url = new URL(`http://${authority}${path}${search}`);
  }
  return url;
}

/** The values of the KEYs the service names, each checked against the store's rules. */
async function credentialValues(env: Env, team: ContextTeam, snapshot: GatewaySnapshot, rule: ServiceRule, target: URL, exchange: Exchange, by: AuditBy): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  const keys = referencedKeys(rule.auth);
  exchange.keys = keys;
  for (const key of keys) {
    const credential = snapshot.credentials.get(key);
    if (!credential) {
      throw new AppError("credential_not_found", `The service ${rule.name} names the credential ${key}, which this vault does not hold`, { service: rule.name, keys: [key] }, { status: 502 });
    }
    if (!urlAllowedFor(target.href, credential.allowedHosts)) {
      throw new AppError("credential_host_not_allowed", `The credential ${key} is not allowed for ${target.host}`, { key, host: target.hostname });
    }
    values.set(key, await credentialValue(env, team, credential, Date.now(), { by }));
  }
  return values;
}
