import { Router, type IRequest } from "itty-router";
import type { Env } from "../env";
import { AppError } from "../errors";
import { newId } from "../ids";
import { log } from "../log";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import { parseWith, readJsonBody } from "./body";
import { buildContext } from "./authenticate";
import { json, toErrorResponse } from "./errors";
import { rateLimitHeaders } from "./rate-limit-headers";
import type { AnyRoute } from "./route";
import type { Context } from "../context";
import { resolveVault } from "../teams/vaults";

/** Whether this request to the route can answer a value (RouteSpec.reveals). */
export function revealsValue(route: Pick<AnyRoute, "reveals">, url: URL): boolean {
  if (route.reveals === true) return true;
  return route.reveals !== undefined && url.searchParams.get(route.reveals.query) === "true";
}

/**
 * Builds the HTTP app from the route table: authentication (which builds the request's one
 * context), the team's rate limit, input parsing, then the handler. Every path answers 405 (with Allow) for methods it does not
 * serve and anything else is a 404, all in the one JSON error shape.
 */
export function createApp(routes: AnyRoute[]) {
  const router = Router<IRequest, [Env, ExecutionContext, string]>();
  const methodsByPath = new Map<string, string[]>();
  for (const route of routes) {
    // Fail closed: an API-key route without a declared scope is a bug, not an open door.
    if ((route.auth === "apiKey" || route.auth === "vault") && !route.scope) throw new Error(`route ${route.method} ${route.path} declares no scope`);
    router[route.method.toLowerCase() as "get"](route.path, (request: IRequest, env: Env, exec: ExecutionContext, requestId: string) =>
      runRoute(route, request, env, exec, requestId),
    );
    methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
  }
  for (const [path, methods] of methodsByPath) {
    router.all(path, () => json({ error: "Method not allowed", code: "method_not_allowed", allowed: methods }, 405, { Allow: methods.join(", ") }));
  }
  router.all("*", () => json({ error: "Not found", code: "not_found" }, 404));

  return async function fetch(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
    const requestId = newId.request();
    const started = Date.now();
    let response: Response;
    // HEAD is answered as GET without a body (health checkers use it).
    const routed = request.method === "HEAD" ? new Request(request, { method: "GET" }) : request;
    try {
      response = (await router.fetch(routed, env, exec, requestId)) as Response;
    } catch (error) {
      response = toErrorResponse(error, requestId);
    }
    if (request.method === "HEAD") response = new Response(null, response);
    response.headers.set("X-Request-Id", requestId);
    // The matched route pattern, not the raw path (a pasted secret could sit in a path); never
    // headers, query strings or bodies.
    log.info("request", { requestId, method: request.method, route: (routed as IRequest).route ?? "unmatched", status: response.status, ms: Date.now() - started });
    return response;
  };
}

async function runRoute(route: AnyRoute, request: IRequest, env: Env, exec: ExecutionContext, requestId: string): Promise<Response> {
  let decision: RateLimitDecision | undefined;
  let response: Response;
  try {
    const built = await buildContext(route.auth, request as unknown as Request, env, exec, requestId);
    let ctx: Context = built.ctx;
    decision = built.decision;
    if (decision && !decision.allowed) throw new AppError("rate_limited");
    const url = new URL(request.url);
    // An agent key never reaches a route that can answer a value, whatever its scopes say.
    if (revealsValue(route, url) && ctx.actor.type === "api_key" && ctx.actor.role === "agent") throw new AppError("access_denied");
    if (route.scope && ctx.actor.type === "api_key" && !ctx.scopes.includes(route.scope)) {
      throw new AppError("insufficient_scope", `This API key lacks the scope ${route.scope}`, { requiredScope: route.scope });
    }
    const params = route.params ? parseWith(route.params, { ...request.params }, "params") : undefined;
    if (route.auth === "vault" && typeof (params as { vault?: unknown } | undefined)?.vault === "string") {
      const vault = await resolveVault(ctx, (params as { vault: string }).vault, route.minRole ?? "member");
      ctx = { ...ctx, team: vault.team, vaultRole: vault.role } as Context;
    }
    const input = {
      ctx,
      request: request as unknown as Request,
      url,
      params,
      query: route.query ? parseWith(route.query, Object.fromEntries(url.searchParams), "query") : undefined,
      body: route.body ? await readJsonBody(request as unknown as Request, route.body, route.maxBodyBytes) : undefined,
      headers: route.headers ? parseWith(route.headers, Object.fromEntries(request.headers), "headers") : undefined,
    };
    // The route's own schemas and auth mode produced these values, which is what its handler type promises.
    response = await route.handler(input as Parameters<AnyRoute["handler"]>[0]);
  } catch (error) {
    response = toErrorResponse(error, requestId);
  }
  if (decision) {
    for (const [name, value] of Object.entries(rateLimitHeaders(decision))) response.headers.set(name, value);
  }
  return response;
}
