import type { z } from "zod";
import type { Scope } from "../auth/scopes";
import type { AdminContext, ApiKeyContext, Context, KeyOrUserContext, UserContext, VaultContext } from "../context";
import type { Role } from "../teams/roles";
import type { ErrorCode } from "../errors";

/**
 * A route is declared once, with its schemas: the router serves it and the OpenAPI document
 * is generated from the same declaration, so the docs cannot drift from the code.
 */
/**
 * `apiKeyOrUser`: an API key (scopes apply) or a user session (team from X-Team-Id when in several).
 * `vault`: a route under /v1/vaults/:vault. An API key acts only in its own team (any other vault
 * answers 404 vault_not_found, exactly as a vault that does not exist) with the route's `scope`;
 * a user session must be a member of the vault with at least the route's `minRole`. The `:vault`
 * path parameter (slug or team id) names the vault; the handler's context carries the team (with
 * its slug) and, for users, their role (VaultContext). A route without `:vault` (the list of the
 * caller's vaults) gets the caller only: no team for a user session.
 */
export type AuthMode = "none" | "apiKey" | "admin" | "user" | "apiKeyOrUser" | "vault";
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** The request context a route of each auth mode receives. */
export type ContextFor<A extends AuthMode> = A extends "vault" ? VaultContext : A extends "apiKeyOrUser" ? KeyOrUserContext : A extends "apiKey" ? ApiKeyContext : A extends "user" ? UserContext : A extends "admin" ? AdminContext : Context;

export interface RouteContext<A extends AuthMode, B, Q, P, H> {
  /** Built once per request by the app: request id, actor, team, scopes, env. */
  ctx: ContextFor<A>;
  request: Request;
  url: URL;
  body: Out<B>;
  query: Out<Q>;
  params: Out<P>;
  headers: Out<H>;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** Response headers particular to this route (the common ones are added for every route). */
  headers?: Record<string, { description: string; schema: { type: "string" | "integer"; enum?: string[] } }>;
}

export interface RouteSpec<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  H extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** itty-router pattern, e.g. /v1/tokens/:id */
  path: string;
  summary: string;
  tag: string;
  auth: A;
  /** For API-key routes: the scope the key must carry (on apiKeyOrUser routes, when the caller is a key). */
  scope?: A extends "apiKey" | "apiKeyOrUser" | "vault" ? Scope : never;
  /** For vault routes: the least member role a user session needs (default member). */
  minRole?: A extends "vault" ? Role : never;
  /**
   * The route can answer a credential's value (or hands out access to one, as leases do): an
   * agent key is refused with 403 access_denied before any other check. `{ query }`: only when
   * that query parameter is "true" (a list that reveals on `?reveal=true`). A test fails for any
   * route whose response schema carries a `value` field without this mark.
   */
  reveals?: true | { query: string };
  body?: B;
  query?: Q;
  params?: P;
  /** Request headers the route reads (names in lowercase). */
  headers?: H;
  maxBodyBytes?: number;
  responses: Record<number, ResponseSpec>;
  /**
   * The errors the handler's domain code may raise. Those of the auth mode and of input
   * parsing are added by the app and the OpenAPI generator (openapi.ts `routeErrorCodes`).
   */
  errors?: readonly ErrorCode[];
  handler: (c: RouteContext<A, B, Q, P, H>) => Promise<Response> | Response;
}

// The declared spec is erased to the general shape for the router's table.
export type AnyRoute = Omit<RouteSpec<AuthMode, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>, "scope" | "minRole"> & { scope?: Scope; minRole?: Role };

export function defineRoute<
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
  H extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<A, B, Q, P, H>): AnyRoute {
  return spec as unknown as AnyRoute;
}
