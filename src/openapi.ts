import { z } from "zod";
import { ERROR_CATALOG, statusOf, type ErrorCode } from "./errors";
import type { AnyRoute } from "./http/route";
import { ErrorBody } from "./http/schemas";
import { PLANS } from "./plans";

/**
 * Generates the OpenAPI 3.1 document from the route table and the zod schemas the routes
 * parse with (zod 4's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses).
 * Shared named schemas (`.meta({ id })`) are lifted into components. Each route's error
 * responses come from `routeErrorCodes`: its auth mode, its inputs and its declared errors.
 */
type JsonSchema = Record<string, unknown>;

const TAGS: Record<string, string> = {
  Service: "Liveness and this document",
  Tokens: "Credentials stored once, encrypted, used by tok_ reference (seed 000)",
  "Named secrets": "Seed 001's vault: named secrets, app-level (API keys) or user-level (sessions), with runtime retrieval",
  Credentials: "Seed 004's credentials: named, typed, versioned (rotation), with a lease policy and allowedHosts",
  Leases: "Seed 004's leases: the value for a while, within the credential's policy",
  Tasks: "Outbound HTTP calls run from the queue, with tok_ references resolved at execution",
  Webhooks: "The signing secret of task completion webhooks",
  Audit: "The team's audit trail",
  Accounts: "Sign-up, login and logout (session tokens)",
  Teams: "Teams, members and invitations",
  "API keys": "Team API keys, managed by members",
  Admin: "Operator API (ADMIN_TOKEN)",
  Vaults: "Seed 003: a team is a vault; credentials by KEY, services, agent tokens, the proxy's request log",
};

/** Every error a route can answer with: from its auth mode, its inputs and its declared errors. */
export function routeErrorCodes(route: Pick<AnyRoute, "auth" | "body" | "params" | "query" | "headers" | "errors" | "reveals">): ErrorCode[] {
  const codes = new Set<ErrorCode>();
  if (route.auth === "apiKey") ["api_key_required", "invalid_api_key", "insufficient_scope", "rate_limited"].forEach((c) => codes.add(c as ErrorCode));
  if (route.auth === "admin") ["admin_token_required", "invalid_admin_token", "not_configured"].forEach((c) => codes.add(c as ErrorCode));
  if (route.auth === "user") ["session_required", "invalid_session", "not_configured"].forEach((c) => codes.add(c as ErrorCode));
  if (route.auth === "apiKeyOrUser") {
    ["api_key_required", "invalid_api_key", "insufficient_scope", "rate_limited", "invalid_session", "not_configured", "team_required", "access_denied"].forEach((c) => codes.add(c as ErrorCode));
  }
  if (route.auth === "vault") {
    ["api_key_required", "invalid_api_key", "insufficient_scope", "rate_limited", "invalid_session", "not_configured", "access_denied", "insufficient_role", "vault_not_found"].forEach((c) => codes.add(c as ErrorCode));
  }
  if (route.reveals) codes.add("access_denied");
  if (route.body || route.params || route.query || route.headers) codes.add("validation_failed");
  if (route.body) ["malformed_body", "body_incomplete", "payload_too_large", "unsupported_media_type"].forEach((c) => codes.add(c as ErrorCode));
  for (const code of route.errors ?? []) codes.add(code);
  codes.add("internal_error");
  return [...codes].sort((a, b) => statusOf(a) - statusOf(b));
}

/** Answered outside any route: unknown paths and unserved methods. */
export const UNROUTED_ERROR_CODES: readonly ErrorCode[] = ["not_found", "method_not_allowed"];

const HEADERS = {
  "X-Request-Id": { description: "Identifies the request in the server's logs (every response)", schema: { type: "string" } },
  "X-RateLimit-Limit": { description: "The team's requests per minute (API-key routes)", schema: { type: "integer" } },
  "X-RateLimit-Remaining": { description: "Requests left in the sliding 60 s window", schema: { type: "integer" } },
  "X-RateLimit-Reset": { description: "Unix seconds at which the oldest counted request leaves the window", schema: { type: "integer" } },
  "Retry-After": { description: "Seconds to wait before trying again", schema: { type: "integer" } },
  Allow: { description: "The methods the path serves", schema: { type: "string" } },
} as const;
const headerRef = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

function toSchema(components: Record<string, JsonSchema>, schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const converted = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  const { $schema: _ignored, $defs, ...rest } = converted as JsonSchema & { $defs?: Record<string, JsonSchema> };
  // A named schema at the root comes back as a $ref to its own $defs entry: the entry is the
  // component, the root stays the reference.
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

function parametersFor(components: Record<string, JsonSchema>, route: AnyRoute) {
  const params: unknown[] = [];
  for (const [where, schema] of [["path", route.params], ["query", route.query], ["header", route.headers]] as const) {
    if (!schema) continue;
    const json = toSchema(components, schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      params.push({
        // Header names are matched case-insensitively; documented in their usual spelling.
        name: where === "header" ? name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase()) : name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        ...(typeof description === "string" ? { description } : {}),
        schema: rest,
      });
    }
  }
  return params;
}

/** The one response object of a status: the codes it may carry, with an example of each. */
function errorResponse(codes: ErrorCode[], headers: Record<string, unknown>) {
  const only = codes.length === 1 ? codes[0] : undefined;
  return {
    description: codes.map((c) => `\`${c}\`: ${ERROR_CATALOG[c].description}`).join("; "),
    headers,
    content: {
      "application/json": {
        schema: { allOf: [{ $ref: "#/components/schemas/Error" }, { type: "object", properties: { code: { enum: codes } } }] },
        ...(only
          ? { example: exampleOf(only) }
          : { examples: Object.fromEntries(codes.map((c) => [c, { summary: ERROR_CATALOG[c].message, value: exampleOf(c) }])) }),
      },
    },
  };
}

function exampleOf(code: ErrorCode) {
  const body: Record<string, unknown> = { error: ERROR_CATALOG[code].message, code };
  if (code === "internal_error") body.requestId = "req_01jrx7m2k0000000000000000a";
  return body;
}

function responseHeaders(route: AnyRoute, status: number): Record<string, unknown> {
  const headers: Record<string, unknown> = { "X-Request-Id": headerRef("X-Request-Id") };
  // API-key requests are counted once authenticated: every answer after that carries the window.
  if (route.auth === "apiKey" && status !== 401) {
    for (const name of ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"] as const) headers[name] = headerRef(name);
  }
  if (status === 429) headers["Retry-After"] = headerRef("Retry-After");
  return headers;
}

export function buildOpenApi(routes: AnyRoute[]) {
  const components: Record<string, JsonSchema> = {};
  toSchema(components, ErrorBody, "output");
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, "{$1}");
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      const headers = { ...responseHeaders(route, Number(status)), ...spec.headers };
      responses[status] = spec.schema
        ? { description: spec.description, headers, content: { "application/json": { schema: toSchema(components, spec.schema, "output") } } }
        : { description: spec.description, headers };
    }
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of routeErrorCodes(route)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
    for (const [status, codes] of byStatus) {
      responses[String(status)] = errorResponse(codes, responseHeaders(route, status));
    }
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
              : route.auth === "apiKeyOrUser" || route.auth === "vault"
                ? [{ bearerApiKey: route.scope ? [route.scope] : [] }, { headerApiKey: route.scope ? [route.scope] : [] }, { sessionToken: [] }]
                : [],
      ...(route.scope ? { "x-required-scope": route.scope, description: `Requires an API key with the \`${route.scope}\` scope.` } : {}),
      parameters: parametersFor(components, route),
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: toSchema(components, route.body, "input") } } } } : {}),
      responses,
    };
  }
  const usedTags = [...new Set(routes.map((r) => r.tag))];
  return {
    openapi: "3.1.0",
    info: {
      title: "Token Vault",
      version: "0.1.0",
      description:
        "Store third-party credentials once, encrypted (AES-256-GCM, per-team HKDF keys), and use them by tok_ reference. " +
        `Rate limits per team (sliding 60 s window): ${Object.entries(PLANS).map(([p, l]) => `${p} ${l.rateLimitPerMinute}/min`).join(", ")}. ` +
        "Every authenticated response carries X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.\n\n" +
        'Every error is `{"error": "<message>", "code": "<code>", ...details}`: switch on `code`, never on the message. ' +
        "Each operation lists the codes it may answer with; an unknown path answers `not_found` (404) and a method a path does not serve " +
        "answers `method_not_allowed` (405) with an `Allow` header (components.responses.NotFound and MethodNotAllowed).",
    },
    servers: [{ url: "/" }],
    "x-proxy": proxyDescription(),
    tags: usedTags.map((name) => ({ name, description: TAGS[name] ?? name })),
    paths,
    components: {
      schemas: components,
      headers: HEADERS,
      responses: {
        NotFound: errorResponse(["not_found"], { "X-Request-Id": headerRef("X-Request-Id") }),
        MethodNotAllowed: errorResponse(["method_not_allowed"], { "X-Request-Id": headerRef("X-Request-Id"), Allow: headerRef("Allow") }),
      },
      securitySchemes: {
        bearerApiKey: { type: "http", scheme: "bearer", description: "Team API key (tvk_...)" },
        headerApiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
        adminToken: { type: "http", scheme: "bearer", description: "Operator ADMIN_TOKEN (admin routes only)" },
        sessionToken: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Session token from /auth/signup or /auth/login" },
      },
    },
  };
}

/**
 * The proxy's two ingress forms (gateway/proxy.ts) are served outside the JSON route table (any
 * method, any path below them, the upstream's answer streamed back as is), so they are not
 * operations of this document: `x-proxy` describes them and the codes of the vault's own
 * refusals, each under its status. (credential_not_found is answered with 502 there when a KEY a
 * service names is gone; the catalog lists it under 400, where service writes answer it.)
 */
const PROXY_ERRORS: ErrorCode[] = ["validation_failed", "url_not_allowed", "credential_host_not_allowed", "insufficient_scope", "no_matching_service", "service_disabled", "proxy_auth_required", "rate_limited", "internal_error", "credential_expired", "oauth_not_connected", "oauth_refresh_failed", "upstream_error", "not_configured"];

function proxyDescription() {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of PROXY_ERRORS) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  const responses: Record<string, unknown> = {};
  for (const [status, codes] of byStatus) {
    // Inline: references from an extension do not count as uses of a component.
    const headers: Record<string, unknown> = {
      "X-Request-Id": headerRef("X-Request-Id"),
      "X-Vault-Proxy-Error": { description: "Set to true on the proxy's own refusals (absent on the upstream's answers)", schema: { type: "string", enum: ["true"] } },
    };
    if (status === 407) headers["Proxy-Authenticate"] = { description: "The scheme the proxy expects its vault key in", schema: { type: "string" } };
    if (status === 429) for (const name of ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"] as const) headers[name] = headerRef(name);
    responses[String(status)] = errorResponse(codes, headers);
  }
  return {
    description:
      "The agent gateway's credential-injecting proxy. `ANY /proxy/{host}[:port]/{path}?{query}` forwards to https://{host}/{path}?{query}; " +
      "`ANY /s/{service}/{path}` forwards to the named service's host (an SDK's base URL). The vault key (scope proxy:use) goes in " +
      "`Proxy-Authorization: Bearer`, `X-Vault-Token`, or where the service's credential goes. The upstream's answers come back as they are; " +
      "the vault's own refusals are these JSON errors with `X-Vault-Proxy-Error: true`.",
    paths: ["/proxy/{host}/{path}", "/s/{service}/{path}"],
    requiredScope: "proxy:use",
    responses,
  };
}
