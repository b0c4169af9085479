import { z } from "zod";
import { ConnectBody, ConnectResponse, OAuthStatus, PasteBody } from "../api/oauth";
import { KeyParams } from "../api/vaults";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { oauthStatus, pasteTokens } from "../oauth/credentials";
import { checkKeys } from "../views/vault-keys";
import { portalSessionUser } from "../oauth/browser-user";
import { CALLBACK_PATH, COMPLETE_PATH, completeConnect, startConnect, type Completion } from "../oauth/connect";
import { completePage } from "../portal/pages/oauth";

/** Short, printable query values: the provider's words are shown, never trusted. */
const text = (max: number) => z.string().max(2048).transform((v) => v.slice(0, max)).optional();

const CallbackQuery = z.object({ code: text(2048), state: text(512), error: text(64), error_description: text(300) });
const CompleteQuery = z.object({ status: z.enum(["success", "error"]).optional(), key: text(100), error: text(64), description: text(300) });

function completionUrl(origin: string, done: Completion): string {
  const url = new URL(COMPLETE_PATH, origin);
  url.searchParams.set("status", done.status);
  if (done.key) url.searchParams.set("key", done.key);
  if (done.status === "error") {
    url.searchParams.set("error", done.error);
    if (done.description) url.searchParams.set("description", done.description);
  }
  return url.toString();
}

/** The browser side of the OAuth connect flow (no API credentials: the state is the capability). */
export const oauthBrowserRoutes = [
  defineRoute({
    method: "GET",
    path: CALLBACK_PATH,
    tag: "OAuth",
    summary: "The OAuth redirect URI: uses the state once, exchanges the code, stores the tokens, then redirects to the completion page",
    auth: "none",
    query: CallbackQuery,
    responses: {
      303: { description: "To /oauth/complete with status=success or status=error (and the error)", headers: { Location: { description: "The completion page", schema: { type: "string" } } } },
    },
    handler: async ({ ctx, request, url, query }) => {
      const done = await completeConnect(ctx.env, query, await portalSessionUser(request, ctx.env), ctx.requestId);
      return new Response(null, { status: 303, headers: { location: completionUrl(url.origin, done), "cache-control": "no-store", "referrer-policy": "no-referrer" } });
    },
  }),
  defineRoute({
    method: "GET",
    path: COMPLETE_PATH,
    tag: "OAuth",
    summary: "The completion page of the connect flow (HTML): says success or the error",
    auth: "none",
    query: CompleteQuery,
    responses: { 200: { description: "An HTML page (strict CSP, escaped output)" } },
    // In the portal's look (its stylesheet only: no script, form or frame).
    handler: ({ query }) => completePage(query),
  }),
];

/**
 * A vault KEY's OAuth side (issue 12): connect with a provider, paste tokens, status. Members
 * and above (the vault auth mode's default role); API keys with the vault scopes.
 */
export const oauthVaultRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/vaults/:vault/credentials/:key/oauth/connect",
    tag: "OAuth",
    summary: "Start connecting a KEY with an OAuth provider (Authorization Code + PKCE S256): open the answered authorizationUrl in a browser",
    auth: "vault",
    scope: "vault:write",
    params: KeyParams,
    body: ConnectBody,
    responses: { 200: { description: "The provider's authorization URL (state, code_challenge, redirect_uri = this vault's /oauth/callback)", schema: ConnectResponse } },
    errors: ["invalid_credential_key", "url_not_allowed", "not_configured"],
    handler: async ({ ctx, params, url, body }) => {
      checkKeys([params.key]);
      return json(await startConnect(ctx, params.key, body, url.origin));
    },
  }),
  defineRoute({
    method: "POST",
    path: "/v1/vaults/:vault/credentials/:key/oauth/tokens",
    tag: "OAuth",
    summary: "Store pasted OAuth tokens; a refresh token is validated at once by refreshing (nothing is stored if the provider refuses)",
    auth: "vault",
    scope: "vault:write",
    params: KeyParams,
    body: PasteBody,
    responses: { 200: { description: "The KEY's OAuth status", schema: OAuthStatus } },
    errors: ["invalid_credential_key", "oauth_token_rejected", "url_not_allowed", "version_conflict", "not_configured"],
    handler: async ({ ctx, params, body }) => {
      checkKeys([params.key]);
      return json(await pasteTokens(ctx, params.key, body));
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/vaults/:vault/credentials/:key/oauth/status",
    tag: "OAuth",
    summary: "A KEY's OAuth status: connected, expiry, last refresh and error, needsReconnect (never a token)",
    auth: "vault",
    scope: "vault:read",
    params: KeyParams,
    responses: { 200: { description: "The KEY's OAuth status", schema: OAuthStatus } },
    errors: ["invalid_credential_key", "not_found"],
    handler: async ({ ctx, params }) => {
      checkKeys([params.key]);
      return json(await oauthStatus(ctx, params.key));
    },
  }),
];
