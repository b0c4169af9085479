import { expect } from "vitest";
import { ERROR_CATALOG, isErrorCode, type ErrorCode } from "../../src/errors";
import { routeErrorCodes, UNROUTED_ERROR_CODES } from "../../src/openapi";
import { routes } from "../../src/routes";

/** Route patterns as the router matches them (a trailing slash is tolerated). */
const table = routes.map((route) => ({ route, pattern: new RegExp(`^${route.path.replace(/:\w+/g, "[^/]+")}/*$`) }));

/** The codes the OpenAPI document promises for this request: its route's, or those of no route. */
export function documentedCodes(method: string, path: string): readonly ErrorCode[] {
  const pathname = new URL(path, "https://vault.test").pathname;
  const wanted = method === "HEAD" ? "GET" : method;
  const matching = table.filter((t) => t.pattern.test(pathname));
  const route = matching.find((t) => t.route.method === wanted)?.route;
  if (route) return routeErrorCodes(route);
  return matching.length > 0 ? UNROUTED_ERROR_CODES.filter((c) => c === "method_not_allowed") : UNROUTED_ERROR_CODES.filter((c) => c === "not_found");
}

/**
 * Every error answer keeps the contract: `{error, code, ...}` with a code from the catalog,
 * answered with the catalog's status, and listed in the OpenAPI document for that route.
 */
export function expectErrorContract(method: string, path: string, status: number, body: unknown) {
  const where = `${method} ${path} -> ${status} ${JSON.stringify(body)?.slice(0, 200)}`;
  const { error, code } = (body ?? {}) as { error?: unknown; code?: unknown };
  expect(typeof error, where).toBe("string");
  expect(isErrorCode(code), where).toBe(true);
  expect(ERROR_CATALOG[code as ErrorCode].status, where).toBe(status);
  expect(documentedCodes(method, path), where).toContain(code);
}
