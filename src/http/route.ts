import type { z } from "zod";
import type { ApiKeyAuth } from "../auth/apikeys";
import type { Scope } from "../auth/scopes";
import type { UserAuth } from "../auth/sessions";
import type { Env } from "../env";

/**
 * A route is declared once, with its schemas: the router serves it and the OpenAPI document
 * is generated from the same declaration, so the docs cannot drift from the code.
 */
export type AuthMode = "none" | "apiKey" | "admin" | "user";
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<A extends AuthMode, B, Q, P> {
  request: Request;
  env: Env;
  exec: ExecutionContext;
  requestId: string;
  url: URL;
  auth: A extends "apiKey" ? ApiKeyAuth : A extends "user" ? UserAuth : undefined;
  body: Out<B>;
  query: Out<Q>;
  params: Out<P>;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface RouteSpec<
  A extends AuthMode = AuthMode,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** itty-router pattern, e.g. /v1/tokens/:id */
  path: string;
  summary: string;
  tag: string;
  auth: A;
  /** For API-key routes: the scope the key must carry. */
  scope?: A extends "apiKey" ? Scope : never;
  body?: B;
  query?: Q;
  params?: P;
  maxBodyBytes?: number;
  responses: Record<number, ResponseSpec>;
  handler: (c: RouteContext<A, B, Q, P>) => Promise<Response> | Response;
}

// The declared spec is erased to the general shape for the router's table.
export type AnyRoute = Omit<RouteSpec<AuthMode, z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>, "scope"> & { scope?: Scope };

export function defineRoute<
  A extends AuthMode,
  B extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  P extends z.ZodType | undefined = undefined,
>(spec: RouteSpec<A, B, Q, P>): AnyRoute {
  return spec as unknown as AnyRoute;
}
