import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute, type AnyRoute } from "../http/route";
import { buildOpenApi } from "../openapi";

export const Health = z.object({ status: z.literal("ok") });

/** Unauthenticated service routes. `routes` is the full table, for the OpenAPI document. */
export function metaRoutes(routes: () => AnyRoute[]) {
  let document: unknown;
  return [
    defineRoute({
      method: "GET",
      path: "/healthz",
      tag: "Service",
      summary: "Liveness (no authentication, no storage access)",
      auth: "none",
      responses: { 200: { description: "Alive", schema: Health } },
      handler: () => json({ status: "ok" }),
    }),
    defineRoute({
      method: "GET",
      path: "/openapi.json",
      tag: "Service",
      summary: "This OpenAPI 3.1 document, generated from the routes' zod schemas",
      auth: "none",
      responses: { 200: { description: "OpenAPI document" } },
      handler: () => json((document ??= buildOpenApi(routes()))),
    }),
  ];
}
