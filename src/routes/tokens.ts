import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { PageQuery } from "../http/schemas";
import { CreateTokenBody, TokenList, TokenParams, TokenResponse } from "../api/tokens";
import { createToken, getToken, listTokens, revokeToken, tokenView } from "../vault/tokens";

export const tokenRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/tokens",
    tag: "Tokens",
    summary: "Store a credential; returns its tok_ reference. The value is never returned again.",
    auth: "apiKey",
    scope: "tokens:write",
    body: CreateTokenBody,
    responses: { 201: { description: "Stored", schema: TokenResponse } },
    errors: ["not_configured"],
    handler: async ({ ctx, body }) => json({ token: await createToken(ctx, body) }, 201),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/tokens",
    tag: "Tokens",
    summary: "List active tokens (metadata only), newest first",
    auth: "apiKey",
    scope: "tokens:read",
    query: PageQuery,
    responses: { 200: { description: "Active tokens", schema: TokenList } },
    handler: async ({ ctx, query }) => json(await listTokens(ctx, query)),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/tokens/:id",
    tag: "Tokens",
    summary: "Token metadata",
    auth: "apiKey",
    scope: "tokens:read",
    params: TokenParams,
    responses: { 200: { description: "Token metadata", schema: TokenResponse } },
    errors: ["not_found", "access_denied"],
    handler: async ({ ctx, params }) => json({ token: tokenView(await getToken(ctx, params.id)) }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/tokens/:id",
    tag: "Tokens",
    summary: "Revoke a token immediately and for good (its ciphertext is erased)",
    auth: "apiKey",
    scope: "tokens:write",
    params: TokenParams,
    responses: { 200: { description: "Revoked", schema: TokenResponse } },
    errors: ["not_found", "access_denied"],
    handler: async ({ ctx, params }) => json({ token: await revokeToken(ctx, params.id) }),
  }),
];
