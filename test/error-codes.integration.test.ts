import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG, ERROR_CODES } from "../src/errors";
import type { AnyRoute } from "../src/http/route";
import { routeErrorCodes } from "../src/openapi";
import { routes } from "../src/routes";
import { signupUser } from "./helpers/accounts";
import { call, newTeam, newToken } from "./helpers/api";
import { samplePath } from "./helpers/auth-cases";
import { TEST_ADMIN_TOKEN } from "./helpers/constants";
import { keyFor, proOwner } from "./helpers/store";

/**
 * Error codes across the route table. Every call here also goes through the error contract of
 * helpers/api.ts (a catalogued code, answered with its status, documented for the route), so
 * these requests are chosen to reach each route's shared error paths.
 */
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const pathOf = (route: AnyRoute) => samplePath(route).replace(":userId", "usr_01jrx7m2k0000000000000000a");
/** A malformed value for each id parameter, so params validation is what answers. */
const badIds = (route: AnyRoute) => route.path.replace(/:\w+/g, "not-an-id!");

async function credentialsFor(route: AnyRoute): Promise<Record<string, string>> {
  // secrets:reveal is never in a new team's first key: such routes get a key made with it.
  if (route.auth === "apiKey" && route.scope === "secrets:reveal") return { authorization: `Bearer ${(await keyFor(await proOwner("codes"))).key}` };
  if (route.auth === "apiKey") return { authorization: `Bearer ${(await newTeam("pro")).key}` };
  if (route.auth === "admin") return { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  if (route.auth === "user" || route.auth === "apiKeyOrUser") return { authorization: `Bearer ${(await signupUser("codes")).token}` };
  // Vault routes: the user's own vault (pathFor), so the request gets past the vault check.
  if (route.auth === "vault") {
    const user = await signupUser("codes");
    return { authorization: `Bearer ${user.token}`, vault: user.team.id };
  }
  return {};
}

describe("every route answers errors with a catalogued code", () => {
  describe.each(routes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_name, route) => {
    it("documents the codes of its auth mode, inputs and domain", () => {
      const codes = routeErrorCodes(route);
      expect(codes).toContain("internal_error");
      if (route.auth === "apiKey") expect(codes).toEqual(expect.arrayContaining(["api_key_required", "invalid_api_key", "insufficient_scope", "rate_limited"]));
      if (route.auth === "user") expect(codes).toEqual(expect.arrayContaining(["session_required", "invalid_session"]));
      if (route.auth === "admin") expect(codes).toEqual(expect.arrayContaining(["admin_token_required", "invalid_admin_token"]));
      if (route.body) expect(codes).toEqual(expect.arrayContaining(["validation_failed", "malformed_body", "payload_too_large", "unsupported_media_type"]));
      for (const code of route.errors ?? []) expect(ERROR_CODES).toContain(code);
    });

    it("405 method_not_allowed with Allow for a method the path does not serve", async () => {
      const served = routes.filter((r) => r.path === route.path).map((r) => r.method);
      const other = METHODS.find((m) => !served.includes(m))!;
      const res = await call(other, pathOf(route));
      expect(res.status).toBe(405);
      expect(res.text).toBe(JSON.stringify({ error: "Method not allowed", code: "method_not_allowed", allowed: served }));
      expect(res.headers.get("allow")).toBe(served.join(", "));
    });
  });

  const each = (filter: (r: AnyRoute) => boolean) => describe.each(routes.filter(filter).map((r) => [`${r.method} ${r.path}`, r] as const));

  each((r) => r.auth !== "none")("%s", (_name, route) => {
    it("401 with its auth mode's code without credentials", async () => {
      const res = await call(route.method, pathOf(route));
      expect(res.status).toBe(401);
      expect(res.json.code).toBe({ apiKey: "api_key_required", admin: "admin_token_required", user: "session_required", apiKeyOrUser: "api_key_required", vault: "api_key_required" }[route.auth as "apiKey"]);
    });
  });

  each((r) => Boolean(r.params))("%s", (_name, route) => {
    it("400 validation_failed for malformed ids", async () => {
      const { vault: _vault, ...headers } = await credentialsFor(route);
      const res = await call(route.method, badIds(route), { headers, body: route.body ? {} : undefined });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: "Invalid request params", code: "validation_failed", issues: expect.any(Array) });
    });
  });

  each((r) => Boolean(r.body))("%s", (_name, route) => {
    it("415, 400 and 413 for a body of the wrong type, malformed, or too large", async () => {
      const { vault, ...headers } = await credentialsFor(route);
      const path = vault ? pathOf(route).replace("team_01jrx7m2k0000000000000000a", vault) : pathOf(route);
      const wrongType = await call(route.method, path, { headers: { ...headers, "content-type": "text/plain" }, body: "{}" });
      expect([wrongType.status, wrongType.json.code]).toEqual([415, "unsupported_media_type"]);
      const malformed = await call(route.method, path, { headers, body: "{" });
      expect([malformed.status, malformed.json.code]).toEqual([400, "malformed_body"]);
      const big = await call(route.method, path, { headers, body: JSON.stringify({ pad: "x".repeat(600 * 1024) }) });
      expect([big.status, big.json.code]).toEqual([413, "payload_too_large"]);
    });
  });
});

describe("seed 002's error bodies, byte for byte, with their code", () => {
  it("keeps the exact text and adds only `code`", async () => {
    const a = await newTeam("pro");
    const b = await newTeam("pro");
    const theirs = await newToken(b.key, "seed-002-value");
    const exact: [Promise<{ text: string; status: number }>, number, string][] = [
      [call("GET", "/v1/tokens"), 401, '{"error":"API key required","code":"api_key_required"}'],
      [call("GET", "/v1/tokens", { key: `tvk_01jrx7m2k0000000000000000a${"Z".repeat(49)}` }), 401, '{"error":"Invalid or revoked API key","code":"invalid_api_key"}'],
      [call("GET", `/v1/tokens/${theirs}`, { key: a.key }), 403, '{"error":"Access denied","code":"access_denied"}'],
    ];
    for (const [pending, status, text] of exact) {
      const res = await pending;
      expect(res.status).toBe(status);
      expect(res.text).toBe(text);
    }
  });

  it("429 over the limit: the exact body with code, and Retry-After", async () => {
    const team = await newTeam("free");
    let last;
    for (let i = 0; i <= 60; i++) last = await SELF.fetch("https://vault.test/v1/tokens", { headers: { authorization: `Bearer ${team.key}` } });
    expect(last!.status).toBe(429);
    expect(await last!.text()).toBe('{"error":"Rate limit exceeded","code":"rate_limited"}');
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(last!.headers.get("x-ratelimit-remaining")).toBe("0");
  });
});

describe("the catalog", () => {
  it("gives every code an error status and a message", () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOG)) {
      expect(code).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.message.length).toBeGreaterThan(0);
      expect(entry.description.length).toBeGreaterThan(0);
    }
  });
});
