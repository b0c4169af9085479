import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { call, newTeam } from "./helpers/api";
import { CANARY } from "./helpers/constants";

/** Bad input always gets a clear 4xx in the one error shape; never a 500, never a partial write. */
describe("error handling", () => {
  it("404 for unknown routes and 405 with Allow for wrong methods", async () => {
    const unknown = await call("GET", "/v2/whatever");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: "Not found", code: "not_found" });
    const wrong = await call("PUT", "/v1/tokens");
    expect(wrong.status).toBe(405);
    expect(wrong.json.error).toBe("Method not allowed");
    expect(wrong.headers.get("allow")).toBe("POST, GET");
    expect((await call("PATCH", "/v1/tokens/tok_01jrx7m2k0000000000000000a")).headers.get("allow")).toBe("GET, DELETE");
  });

  it("every response carries a request id", async () => {
    const res = await call("GET", "/healthz");
    expect(res.json).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^req_[0-9a-z]{26}$/);
  });

  it("400 for malformed JSON without echoing the input", async () => {
    const team = await newTeam();
    for (const body of [`{"name":"x","value":"${CANARY}"`, `{name: '${CANARY}'}`, "nul", "{\"a\":1}}"]) {
      const res = await call("POST", "/v1/tokens", { key: team.key, body });
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: "Malformed JSON body", code: "malformed_body" });
    }
    const empty = await call("POST", "/v1/tokens", { key: team.key, headers: { "content-type": "application/json" } });
    expect(empty.json).toEqual({ error: "Request body is required", code: "malformed_body" });
  });

  it("415 for a non-JSON content type", async () => {
    const team = await newTeam();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await call("POST", "/v1/tokens", { key: team.key, body: JSON.stringify({ name: "a", value: "b" }), headers: { "content-type": type } });
      expect(res.status).toBe(415);
      expect(res.json).toEqual({ error: "Content-Type must be application/json", code: "unsupported_media_type" });
    }
    const charset = await call("POST", "/v1/tokens", { key: team.key, body: { name: "a", value: "b" }, headers: { "content-type": "application/json; charset=utf-8" } });
    expect(charset.status).toBe(201);
  });

  it("413 for an oversized body, declared or streamed", async () => {
    const team = await newTeam();
    const big = JSON.stringify({ name: "a", value: "x".repeat(600 * 1024) });
    const res = await call("POST", "/v1/tokens", { key: team.key, body: big });
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: expect.stringContaining("too large"), limitBytes: 512 * 1024 });
    // A chunked body with no Content-Length is cut off while streaming.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 700; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const streamed = await SELF.fetch("https://vault.test/v1/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${team.key}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await call("GET", "/v1/tokens", { key: team.key })).json.tokens).toEqual([]);
  });

  it("400 for invalid UTF-8", async () => {
    const team = await newTeam();
    const res = await SELF.fetch("https://vault.test/v1/tokens", {
      method: "POST",
      headers: { authorization: `Bearer ${team.key}`, "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "Request body is not valid UTF-8", code: "malformed_body" });
  });

  it("answers HEAD like GET without a body", async () => {
    const res = await SELF.fetch("https://vault.test/healthz", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it("writes no change without its audit row: a failed audit insert undoes the change, answering 500 with a request id", async () => {
    const { env } = await import("cloudflare:test");
    const team = await newTeam();
    // Make the audit insert of one specially named token fail inside the batch.
    await env.DB.prepare(
      "CREATE TRIGGER IF NOT EXISTS fail_audit_for_test BEFORE INSERT ON audit_log WHEN NEW.metadata LIKE '%audit-must-fail%' BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
    ).run();
    try {
      const res = await call("POST", "/v1/tokens", { key: team.key, body: { name: "audit-must-fail", value: CANARY } });
      expect(res.status).toBe(500);
      expect(res.json).toEqual({ error: "Internal error", code: "internal_error", requestId: res.headers.get("x-request-id") });
      expect(res.text).not.toContain(CANARY);
      const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM tokens WHERE team_id = ?").bind(team.team.id).first<number>("n");
      expect(rows).toBe(0);
    } finally {
      await env.DB.prepare("DROP TRIGGER IF EXISTS fail_audit_for_test").run();
    }
  });

  it("no hostile input produces a 500", async () => {
    const team = await newTeam();
    const bodies: unknown[] = [
      null, 0, true, [], {}, { name: null, value: null }, { name: {}, value: [] }, { name: "a", value: "b", __proto__: { x: 1 } },
      { name: "a\u0000b", value: "\u0000" }, { name: "😀".repeat(100), value: "😀" }, { name: "a", value: "\ud800" },
      { constructor: { prototype: {} } }, { name: "a".repeat(10_000), value: "b" },
    ];
    for (const body of bodies) {
      const res = await call("POST", "/v1/tokens", { key: team.key, body });
      expect(res.status, JSON.stringify(body)?.slice(0, 80)).toBeLessThan(500);
      expect(res.json.error ?? res.json.token).toBeDefined();
    }
    const weird = ["/v1/tokens/%00", "/v1/tokens/..%2f..%2fadmin", "/v1/audit?limit=1e309", "/v1/tokens/" + "a".repeat(5000)];
    for (const path of weird) {
      const res = await call("GET", path, { key: team.key });
      expect(res.status, path).toBe(400);
      expect(res.json.error, path).toEqual(expect.any(String));
    }
    // Unknown query parameters are ignored, as by most APIs.
    expect((await call("GET", "/v1/audit?action[]=x", { key: team.key })).status).toBe(200);
    const admin = [{ name: "x", plan: "enterprise" }, { name: "", plan: "free" }, { plan: "free" }, { name: "x", plan: "free", extra: true }];
    for (const body of admin) {
      const res = await call("POST", "/admin/teams", { admin: true, body });
      expect(res.status).toBe(400);
    }
  });
});
