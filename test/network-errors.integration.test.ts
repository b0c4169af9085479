/**
 * Issue 16: a JSON body without a Content-Type is sent as application/json, and a timeout is
 * reported as one. (Refused, DNS and TLS failures are tested end to end in
 * test/e2e/network-errors.e2e.test.ts: workerd logs each failed fetch on its stderr, which
 * would land in the test output here.)
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callOut } from "../src/tasks/http-call";
import { isJsonDocument, withDefaultContentType } from "../src/tasks/content-type";
import { call, newTeam } from "./helpers/api";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const request = (url: string, timeoutMs = 10_000) => ({ method: "GET", url, headers: {}, credentialHeaders: [], timeoutMs, allowLoopback: true });

describe("a slow target", () => {
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
