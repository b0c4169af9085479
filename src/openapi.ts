import { z } from "zod";
import type { AnyRoute } from "./http/route";
import { ErrorBody } from "./http/schemas";
import { PLANS } from "./plans";

/**
 * Generates the OpenAPI 3.1 document from the route table and the zod schemas the routes
 * parse with (zod 4's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses).
 * Shared named schemas (`.meta({ id })`) are lifted into components.
 */
type JsonSchema = Record<string, unknown>;

const components: Record<string, JsonSchema> = {};

function toSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  const { $schema: _ignored, $defs, ...rest } = converted as JsonSchema & { $defs?: Record<string, JsonSchema> };
  for (const [name, def] of Object.entries($defs ?? {})) components[name] = relink(def) as JsonSchema;
  return relink(rest) as JsonSchema;
}

function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === "$ref" && typeof v === "string" ? v.replace("#/$defs/", "#/components/schemas/") : relink(v)]),
    );
  }
  return value;
}

function parametersFor(route: AnyRoute) {
  const params: unknown[] = [];
  for (const [where, schema] of [["path", route.params], ["query", route.query]] as const) {
    if (!schema) continue;
    const json = toSchema(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      params.push({ name, in: where, required: where === "path" || (json.required ?? []).includes(name), schema: property });
    }
  }
  return params;
}

const errorResponse = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

export function buildOpenApi(routes: AnyRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = spec.schema
        ? { description: spec.description, content: { "application/json": { schema: toSchema(spec.schema, "output") } } }
        : { description: spec.description };
    }
    if (route.body || route.params || route.query) responses["400"] = errorResponse("Invalid input: `issues` names each field by path");
    if (route.body) {
      responses["413"] = errorResponse("Body too large");
      responses["415"] = errorResponse("Content-Type is not application/json");
    }
    if (route.auth === "apiKey") {
      responses["401"] = errorResponse('{"error":"API key required"} or {"error":"Invalid or revoked API key"}');
      responses["403"] = errorResponse('{"error":"Access denied"}: another team\'s resource');
      responses["429"] = errorResponse('{"error":"Rate limit exceeded"}, with Retry-After');
    }
    if (route.auth === "admin") responses["401"] = errorResponse("Missing or wrong admin token");
    if (route.auth === "user") {
      responses["401"] = errorResponse("Missing, invalid, expired or logged-out session token");
      responses["403"] = errorResponse('{"error":"Access denied"} when not a member of the team; a role error when the role is too low');
    }
    if (route.scope) responses["403"] = errorResponse(`{"error":"Access denied"} for another team's resource, or a key without the scope ${route.scope}`);
    responses["500"] = errorResponse('{"error":"Internal error","requestId":"..."}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${path.replace(/[{}]/g, "").replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      security:
        route.auth === "apiKey"
          ? [{ bearerApiKey: route.scope ? [route.scope] : [] }, { headerApiKey: route.scope ? [route.scope] : [] }]
          : route.auth === "admin"
            ? [{ adminToken: [] }]
            : route.auth === "user"
              ? [{ sessionToken: [] }]
              : [],
      ...(route.scope ? { "x-required-scope": route.scope, description: `Requires an API key with the \`${route.scope}\` scope.` } : {}),
      parameters: parametersFor(route),
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: toSchema(route.body, "input") } } } } : {}),
      responses,
    };
  }
  components.Error = toSchema(ErrorBody, "output");
  return {
    openapi: "3.1.0",
    info: {
      title: "Token Vault",
      version: "0.1.0",
      description:
        "Store third-party credentials once, encrypted (AES-256-GCM, per-team HKDF keys), and use them by tok_ reference. " +
        `Rate limits per team (sliding 60 s window): ${Object.entries(PLANS).map(([p, l]) => `${p} ${l.rateLimitPerMinute}/min`).join(", ")}. ` +
        "Every authenticated response carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        bearerApiKey: { type: "http", scheme: "bearer", description: "Team API key (tvk_...)" },
        headerApiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        adminToken: { type: "http", scheme: "bearer", description: "Operator ADMIN_TOKEN (admin routes only)" },
        sessionToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Session token from /auth/signup or /auth/login" },
      },
    },
  };
}
