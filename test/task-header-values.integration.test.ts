/**
 * Task creation refuses header values the runtime cannot send (src/vault/values.ts), with a
 * 400 naming the rule, instead of accepting the task and failing it at execution.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SENDABLE_HEADER_VALUE_RULE } from "../src/vault/values";
import { call, newTeam } from "./helpers/api";

describe("task header values at creation", () => {
  it("refuses a value that is not printable ASCII, naming the header and the rule, and stores nothing", async () => {
    const team = await newTeam();
    for (const value of ["Bearer é-0123456789", "x-😀", "nbsp\u00a0inside", "del\u007f", "esc\u001b[0m", "\u0080"]) {
      const res = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: "https://api.example.com/x", headers: { "X-Custom": value } } });
      expect(res.status, JSON.stringify(value)).toBe(400);
      expect(res.json).toEqual({ error: "Invalid request body", code: "validation_failed", issues: [{ path: "body.headers.X-Custom", message: SENDABLE_HEADER_VALUE_RULE }] });
      expect(res.text).not.toContain(value);
    }
    expect(SENDABLE_HEADER_VALUE_RULE).toMatch(/printable ASCII \(RFC 9110 header field value\)/);
    const { results } = await env.DB.prepare("SELECT id FROM tasks WHERE team_id = ?").bind(team.team.id).all();
    expect(results).toEqual([]);
  });

  it("keeps CR, LF and NUL to their own single message, and accepts printable ASCII with spaces and tabs", async () => {
    const team = await newTeam();
    const crlf = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: "https://api.example.com/x", headers: { "X-A": "a\r\nb" } } });
    expect(crlf.json.issues).toEqual([{ path: "body.headers.X-A", message: "must not contain CR, LF or NUL" }]);
    const ok = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: "https://api.example.com/x", headers: { "X-A": "Bearer abc def", "X-B": "a\tb", "X-C": "~!#$%&'*+-.^_`|\"\\/<>=?@[]{}:;," }, delay: 3600 },
    });
    expect(ok.status).toBe(201);
  });
});
