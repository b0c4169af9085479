import { describe, expect, it } from "vitest";
import type { AnyRoute } from "../../src/http/route";
import { call, newTeam } from "./api";

/** A concrete path for a route pattern, with well-formed ids, so auth is what gets tested. */
export function samplePath(route: AnyRoute): string {
  return route.path
    .replace("/proposals/:id", "/proposals/prop_01jrx7m2k0000000000000000a")
    .replace(":id", "tok_01jrx7m2k0000000000000000a")
    .replace(":teamId", "team_01jrx7m2k0000000000000000a")
    .replace(":keyId", "key_01jrx7m2k0000000000000000a")
    .replace(":invitationId", "inv_01jrx7m2k0000000000000000a")
    .replace(":leaseId", "lease_01jrx7m2k0000000000000000a")
    .replace(":apiKeyId", "key_01jrx7m2k0000000000000000a")
    .replace(":vault", "team_01jrx7m2k0000000000000000a")
    .replace(":key", "SAMPLE_KEY")
    .replace(":name", "sample-name");
}

/** Seed 002's exact auth failures, asserted on every API-key route of the table. */
export function describeApiKeyAuthFailures(routes: AnyRoute[]) {
  const apiKeyRoutes = routes.filter((r) => r.auth === "apiKey");
  describe.each(apiKeyRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_name, route) => {
    it("401 API key required without a key", async () => {
      const res = await call(route.method, samplePath(route));
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "API key required", code: "api_key_required" });
    });
    it("401 for a malformed, unknown or wrongly-schemed key", async () => {
      for (const headers of <Record<string, string>[]>[
        { authorization: "Bearer not-a-key" },
        { authorization: `Bearer tvk_${"A".repeat(49)}` },
        { "x-api-key": `tvk_${"b".repeat(49)}` },
        // Well-formed, naming a real-looking team, but no such key.
        { authorization: `Bearer tvk_01jrx7m2k0000000000000000a${"Z".repeat(49)}` },
      ]) {
        const res = await call(route.method, samplePath(route), { headers });
        expect(res.status).toBe(401);
        expect(res.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
      }
      const basic = await call(route.method, samplePath(route), { headers: { authorization: "Basic dXNlcjpwYXNz" } });
      expect(basic.json).toEqual({ error: "API key required", code: "api_key_required" });
    });
    it("401 for a revoked key, from the very next request", async () => {
      const team = await newTeam("pro");
      const revoked = await call("POST", `/admin/apikeys/${team.apiKey.id}/revoke`, { admin: true });
      expect(revoked.status).toBe(200);
      const res = await call(route.method, samplePath(route), { key: team.key });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
    });
  });
}

/** Operator routes refuse a missing or wrong admin token, and API keys. */
export function describeAdminAuthFailures(routes: AnyRoute[]) {
  const adminRoutes = routes.filter((r) => r.auth === "admin");
  describe.each(adminRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_name, route) => {
    it("401 without or with a wrong admin token, or with a team API key", async () => {
      const team = await newTeam("pro");
      expect((await call(route.method, samplePath(route))).json).toEqual({ error: "Admin token required", code: "admin_token_required" });
      for (const token of ["wrong", team.key]) {
        const res = await call(route.method, samplePath(route), { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect(res.json).toEqual({ error: "Invalid admin token", code: "invalid_admin_token" });
      }
    });
  });
}

/** Session-token routes refuse missing, malformed and foreign tokens. */
export function describeUserAuthFailures(routes: AnyRoute[]) {
  const userRoutes = routes.filter((r) => r.auth === "user");
  describe.each(userRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (_name, route) => {
    it("401 without a session token or with a bad one", async () => {
      const path = samplePath(route).replace(":userId", "usr_01jrx7m2k0000000000000000a");
      expect((await call(route.method, path)).json).toEqual({ error: "Session token required", code: "session_required" });
      for (const token of ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."]) {
        const res = await call(route.method, path, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect(res.json).toEqual({ error: "Invalid or expired session token", code: "invalid_session" });
      }
    });
  });
}
