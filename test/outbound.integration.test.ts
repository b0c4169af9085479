/**
 * Issue 9, findings 1, 2 and 7 through the real Worker, queue and D1: what a credential value
 * may contain, that a value no header can carry never reaches fetch, that an echo of a secret
 * in any form (body, header values, header names; results, failures, polls) is never stored,
 * and that host names with empty labels are refused at creation.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apiKeyContext } from "./helpers/context";
import { createToken } from "../src/vault/tokens";
import { HEADER_VALUE_RULE } from "../src/vault/values";
import { call, newTeam, newToken } from "./helpers/api";
import { leaksIn } from "./helpers/encodings";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

/** Every string in a JSON value, keys included (searched one by one, unescaped). */
function stringsIn(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...stringsIn(v)]);
  return [];
}

/** The forms of `secret` found in a task view or row: in each string, and in JSON held in a string. */
function leaksInTask(task: unknown, secret: string): string[] {
  return stringsIn(task).flatMap((text) => {
    let nested: unknown;
    try {
      nested = JSON.parse(text);
    } catch {
      nested = undefined;
    }
    return [...leaksIn(text, secret), ...(typeof nested === "object" ? stringsIn(nested).flatMap((t) => leaksIn(t, secret)) : [])];
  });
}

describe("credential values (finding 1)", () => {
  it("refuses at creation what an HTTP header cannot carry, naming the rule", async () => {
    const team = await newTeam();
    const refused = ["cnryU-é-0123456789", "emoji-😀-0123456789", " leading-space", "trailing-space ", "tab\tinside", "del\u007finside", "nul\u0000inside", "line\nbreak", "nbsp\u00a0inside"];
    for (const value of refused) {
      const res = await call("POST", "/v1/tokens", { key: team.key, body: { name: "n", value } });
      expect(res.status, JSON.stringify(value)).toBe(400);
      expect(res.json.error).toBe("Invalid request body");
      expect(res.json.issues).toContainEqual({ path: "body.value", message: HEADER_VALUE_RULE });
      expect(res.text).not.toContain(value);
    }
    expect(HEADER_VALUE_RULE).toMatch(/^value must be printable ASCII \(RFC 9110 header field value\)/);
    // An empty value is reported once, by the rule that says so.
    expect((await call("POST", "/v1/tokens", { key: team.key, body: { name: "n", value: "" } })).json.issues).toEqual([{ path: "body.value", message: "value must not be empty" }]);
    for (const value of ["x", "Bearer abc def", "~!#$%&'*+-.^_`|\"\\/<>=?@[]{}:;,", "sk-live_0123456789"]) {
      expect((await call("POST", "/v1/tokens", { key: team.key, body: { name: "ok", value } })).status, value).toBe(201);
    }
    expect((await call("GET", "/v1/tokens", { key: team.key })).json.tokens).toHaveLength(4);
  });

  it("never sends a value stored before the rule: the task fails, nothing reaches the target", async () => {
    const team = await newTeam();
    const legacy = `cnryU-é-${crypto.randomUUID()}`;
    // Straight into the store, as an older version of the API accepted it.
    const token = await createToken(await apiKeyContext(team), { name: "legacy", value: legacy });
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("echo"), method: "GET", headers: { Authorization: `Bearer ${token.id}` }, maxRetries: 2 } });
    expect(created.status).toBe(201);
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task.status).toBe("failed");
    expect(task.error).toBe("request not sent: header Authorization has a value that is not printable ASCII (RFC 9110 header field value)");
    expect(task.attempts).toBe(1); // not retried: it cannot succeed
    expect(await up.records()).toEqual([]);
    expect(JSON.stringify(task)).not.toContain(legacy.slice(8));
  });
});

describe("echoed secrets (finding 2)", () => {
  it("stores no form of a secret echoed in the body, header values or header names", async () => {
    const team = await newTeam();
    const secret = `sk-i9-${crypto.randomUUID()}`;
    const ref = await newToken(team.key, secret);
    const up = upstreamNamespace();
    const headers = { Authorization: `Bearer ${ref}` };
    const ok = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("echo-encoded"), method: "GET", headers } });
    const failing = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("echo-encoded?status=500"), method: "GET", headers, maxRetries: 0 } });
    const polling = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: up.url("echo-encoded"), headers, body: "{}", pollConfig: { urlTemplate: up.url("echo-encoded"), statusPath: "state", doneValues: ["done"], interval: 1 } },
    });
    const tasks = [];
    for (const created of [ok, failing, polling]) {
      expect(created.status).toBe(201);
      tasks.push(await awaitTask(team.key, created.json.task.id));
    }
    expect(tasks.map((t) => t.status)).toEqual(["completed", "failed", "completed"]);
    // The target really got the secret and echoed it in every form (else this proves nothing).
    const records = await up.records();
    expect(records.length).toBeGreaterThanOrEqual(4);
    expect(records.every((r) => r.headers.authorization === `Bearer ${secret}`)).toBe(true);

    for (const task of tasks) {
      expect(task.result.statusCode).toBe(task.status === "failed" ? 500 : 200);
      expect(Object.keys(task.result.headers)).toContain("x-[REDACTED]");
      expect(task.result.headers["x-echo-0"]).toBe("[REDACTED]");
      expect(leaksInTask(task, secret)).toEqual([]);
    }
    expect(tasks[1].error).toBe("Target answered 500");
    // The rows themselves (result, error, poll state), as D1 holds them.
    const { results: rows } = await env.DB.prepare("SELECT * FROM tasks WHERE team_id = ?").bind(team.team.id).all();
    expect(rows).toHaveLength(3);
    expect(leaksInTask(rows, secret)).toEqual([]);
    // The search does find an unredacted echo.
    expect(leaksInTask({ headers: { [`x-${secret}`]: "1" } }, secret)).not.toEqual([]);
  });
});

describe("host names (finding 7)", () => {
  it("refuses empty labels at creation, even with private targets allowed", async () => {
    const team = await newTeam();
    for (const [field, url] of [["targetUrl", "http://localhost../x"], ["targetUrl", "http://127.0.0.1../x"], ["targetUrl", "http://localhost%2e%2e/x"], ["onCompleteUrl", "http://127.0.0.1%2E%2E:8080/hook"]] as const) {
      const body = { targetUrl: "https://api.example.com/x", [field]: url };
      const res = await call("POST", "/v1/tasks", { key: team.key, body });
      expect(res.status, url).toBe(400);
      expect(res.json).toEqual({ code: "url_not_allowed", error: `${field} must not have an empty label in its host name`, field });
    }
    expect((await call("GET", "/v1/tasks", { key: team.key })).json.tasks).toEqual([]);
  });
});
