import type { Env } from "../env";
import { bytesToBase64, utf8 } from "../encoding";
import { fetchOnce } from "../outbound/fetch-once";
import { redact } from "../outbound/redact";
import { isHeaderSafeValue } from "../vault/values";

/**
 * The OAuth token endpoint client (RFC 6749 section 4.1.3 and 6, RFC 7636): the
 * authorization_code exchange with its PKCE verifier and the refresh_token grant, with the
 * client authenticated by client_secret_post or client_secret_basic (or as a public client
 * with its id only). Through outbound/ (URL policy, no redirect followed, a timeout).
 *
 * Failures are told apart by what to do next: `invalid_grant` means the grant is dead (the
 * credential must be reconnected); anything else (the provider's other errors, an HTTP 200
 * carrying {"error"}, a network failure, an answer without an access token) may pass. The
 * provider's words are kept only after redaction of every secret of the exchange.
 */
export type TokenAuthMethod = "client_secret_post" | "client_secret_basic";

export interface OAuthClient {
  tokenUrl: string;
  clientId: string | null;
  clientSecret: string | null;
  authMethod: TokenAuthMethod;
}

export type Grant =
  | { type: "authorization_code"; code: string; redirectUri: string; codeVerifier: string }
  | { type: "refresh_token"; refreshToken: string };

export interface IssuedTokens {
  accessToken: string;
  /** A rotated refresh token, when the provider sent one. */
  refreshToken: string | undefined;
  /** Seconds, when the provider said. */
  expiresIn: number | undefined;
  scope: string | undefined;
}

export type TokenFailureKind = "invalid_grant" | "provider_error" | "unreachable" | "malformed";

export type TokenOutcome =
  | { ok: true; tokens: IssuedTokens }
  | { ok: false; kind: TokenFailureKind; error: string; description: string | undefined };

export const TOKEN_ENDPOINT_TIMEOUT_MS = 10_000;
const MAX_DESCRIPTION = 200;
const MAX_BODY = 64 * 1024;

export async function requestTokens(env: Pick<Env, "ALLOW_LOOPBACK_TARGETS" | "ALLOW_PRIVATE_TARGETS">, client: OAuthClient, grant: Grant): Promise<TokenOutcome> {
  const secrets = [client.clientSecret, grant.type === "refresh_token" ? grant.refreshToken : grant.code, grant.type === "authorization_code" ? grant.codeVerifier : null].filter((s): s is string => !!s);
  const form = new URLSearchParams();
  if (grant.type === "authorization_code") {
    form.set("grant_type", "authorization_code");
    form.set("code", grant.code);
    form.set("redirect_uri", grant.redirectUri);
    form.set("code_verifier", grant.codeVerifier);
  } else {
    form.set("grant_type", "refresh_token");
    form.set("refresh_token", grant.refreshToken);
  }
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  if (client.clientSecret && client.authMethod === "client_secret_basic") {
    // RFC 6749 2.3.1: both parts form-urlencoded before the Basic encoding.
    const pair = `${formEncode(client.clientId ?? "")}:${formEncode(client.clientSecret)}`;
    headers.authorization = `Basic ${bytesToBase64(utf8.encode(pair))}`;
  } else {
    if (client.clientId) form.set("client_id", client.clientId);
    if (client.clientSecret) form.set("client_secret", client.clientSecret);
  }
  const sent = await fetchOnce(env, client.tokenUrl, { method: "POST", headers, body: form.toString() }, TOKEN_ENDPOINT_TIMEOUT_MS);
  switch (sent.kind) {
    case "blocked":
      return failure("unreachable", "token_url_not_allowed", `token_url ${sent.message.replace(/^URL /, "")}`);
    case "timeout":
      return failure("unreachable", "timeout", `the token endpoint did not answer within ${TOKEN_ENDPOINT_TIMEOUT_MS / 1000} s`);
    case "network":
      return failure("unreachable", "network_error", sent.message);
  }
  const response = sent.response;
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    return failure("provider_error", `http_${response.status}`, "the token endpoint answered with a redirect (not followed)");
  }
  const text = (await response.text()).slice(0, MAX_BODY);
  const body = parseBody(text, response.headers.get("content-type") ?? "");
  // An error wins whatever the status: some providers answer 200 {"error": ...}.
  if (body && typeof body.error === "string" && body.error !== "") {
    const error = clean(body.error, secrets, 64) || "provider_error";
    const description = typeof body.error_description === "string" ? clean(body.error_description, secrets, MAX_DESCRIPTION) : undefined;
    return failure(error === "invalid_grant" ? "invalid_grant" : "provider_error", error, description);
  }
  if (response.status < 200 || response.status >= 300) return failure("provider_error", `http_${response.status}`, undefined);
  if (!body) return failure("malformed", "malformed_response", "the token endpoint's answer is not JSON");
  const accessToken = body.access_token;
  // Never store an empty (or unsendable) token: it would be injected as "Bearer ".
  if (typeof accessToken !== "string" || !isHeaderSafeValue(accessToken)) return failure("malformed", "no_access_token", "the token endpoint's answer has no usable access_token");
  const refresh = typeof body.refresh_token === "string" && isHeaderSafeValue(body.refresh_token) ? body.refresh_token : undefined;
  const expires = typeof body.expires_in === "number" ? body.expires_in : typeof body.expires_in === "string" ? Number(body.expires_in) : NaN;
  return {
    ok: true,
    tokens: {
      accessToken,
      refreshToken: refresh,
      expiresIn: Number.isFinite(expires) && expires > 0 ? Math.floor(expires) : undefined,
      scope: typeof body.scope === "string" ? body.scope : undefined,
    },
  };
}

function failure(kind: TokenFailureKind, error: string, description: string | undefined): TokenOutcome {
  return { ok: false, kind, error, description };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** JSON, or (GitHub without Accept) a form-encoded body. */
function parseBody(text: string, contentType: string): Record<string, unknown> | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return undefined;
  } catch {
    if (!/application\/x-www-form-urlencoded/i.test(contentType)) return undefined;
    return Object.fromEntries(new URLSearchParams(text));
  }
}

/** The provider's words, safe to store and show: secrets of the exchange redacted, printable, short. */
function clean(text: string, secrets: string[], max: number): string {
  return redact(text, secrets).replace(/[^\x20-\x7e]/g, "?").slice(0, max);
}
