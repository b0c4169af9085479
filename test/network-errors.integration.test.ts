/**
 * Issue 16: a failed outbound call says why (connection refused, DNS, TLS, timeout) instead of
 * workerd's "internal error; reference = ...", and a JSON body without a Content-Type is sent
 * as application/json. Real fetch inside workerd against real local sockets.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callOut } from "../src/tasks/http-call";
import { isJsonDocument, withDefaultContentType } from "../src/tasks/content-type";
import { call, newTeam } from "./helpers/api";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const request = (url: string, timeoutMs = 10_000) => ({ method: "GET", url, headers: {}, credentialHeaders: [], timeoutMs, allowLoopback: true });

describe("failed outbound calls say why", () => {
  it("names a refused connection (a closed local port)", async () => {
    const outcome = await callOut(request("http://127.0.0.1:1/x"));
    expect(outcome).toMatchObject({ kind: "network", message: "connection refused or reset by 127.0.0.1:1 (nothing listening on that port, or the connection was dropped)" });
  });

  it("names a DNS failure (.invalid never resolves, RFC 6761)", async () => {
    const outcome = await callOut(request("http://nonexistent.invalid/x"));
    expect(outcome).toMatchObject({ kind: "network", message: "DNS lookup failed: nonexistent.invalid does not resolve" });
  });

  it("names a TLS failure (https to a port that speaks plain HTTP)", async () => {
    const up = upstreamNamespace();
    const outcome = await callOut(request(up.url("ok").replace("http://", "https://")));
    expect(outcome.kind).toBe("network");
    expect(outcome.kind === "network" && outcome.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed/);
  });

  it("puts the reason in the task's error, never workerd's internal reference", async () => {
    const team = await newTeam();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: "http://127.0.0.1:1/x", maxRetries: 0 } });
    expect(created.status).toBe(201);
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task.status).toBe("failed");
    expect(task.error).toBe("Network error: connection refused or reset by 127.0.0.1:1 (nothing listening on that port, or the connection was dropped)");
    expect(task.error).not.toMatch(/internal error|reference =/);
  });

  it("reports a timeout as a timeout", async () => {
    const up = upstreamNamespace();
    const outcome = await callOut(request(up.url("slow/3000"), 200));
    expect(outcome.kind).toBe("timeout");
  });
});

describe("a JSON body without Content-Type is sent as application/json", () => {
  it("labels JSON objects and arrays, leaves text and explicit types alone", () => {
    expect(withDefaultContentType({}, '{"a":1}')).toEqual({ "content-type": "application/json" });
    expect(withDefaultContentType({ Authorization: "x" }, " [1,2]")).toEqual({ Authorization: "x", "content-type": "application/json" });
    expect(withDefaultContentType({ "Content-Type": "text/csv" }, '{"a":1}')).toEqual({ "Content-Type": "text/csv" });
    expect(withDefaultContentType({}, "hello")).toEqual({});
    expect(withDefaultContentType({}, "{not json")).toEqual({});
    expect(withDefaultContentType({}, undefined)).toEqual({});
    expect(isJsonDocument("42")).toBe(false);
  });

  it("sends seed 000's Replicate-style body (no Content-Type) as application/json", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const body = JSON.stringify({ version: "model-version-id", input: { prompt: "hello" } });
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), body } });
    expect((await awaitTask(team.key, created.json.task.id)).status).toBe("completed");
    const [received] = await up.records();
    expect(received?.headers["content-type"]).toBe("application/json");
    expect(received?.body).toBe(body);
    // A text body keeps fetch's own label.
    const text = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), body: "plain words" } });
    await awaitTask(team.key, text.json.task.id);
    expect((await up.records())[1]?.headers["content-type"]).toMatch(/^text\/plain/);
  });
});
