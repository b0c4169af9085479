/**
 * Issue 9 finding 5: a body the sender breaks off is the client's fault. The body reader turns
 * a failing stream into 400 body_incomplete (never unhandled_error), and the app answers it.
 * (Through SELF.fetch a failing body arrives as a short one, so the app is called directly
 * with the failing stream; test/e2e/aborted-body.e2e.test.ts drops a real TCP connection.)
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AppError } from "../src/errors";
import { createApp } from "../src/http/app";
import { readJsonBody } from "../src/http/body";
import { routes } from "../src/routes";
import { TEST_ADMIN_TOKEN } from "./helpers/constants";
import { expectErrorContract } from "./helpers/error-contract";

/** A body that sends `prefix`, then fails as a dropped connection does. */
function brokenBody(prefix: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(new TextEncoder().encode(prefix));
        return;
      }
      controller.error(new Error("Network connection lost."));
    },
  });
}

afterEach(() => vi.restoreAllMocks());

describe("a body the sender breaks off (finding 5)", () => {
  it("is refused by the body reader as body_incomplete, a client error", async () => {
    const request = new Request("https://vault.test/x", { method: "POST", headers: { "content-type": "application/json" }, body: brokenBody('{"email":"a') });
    const error = await readJsonBody(request, z.object({ email: z.string() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect([(error as AppError).code, (error as AppError).status, (error as AppError).message]).toEqual(["body_incomplete", 400, "Request body incomplete"]);
  });

  it("answers 400 through the app and logs one warn line without a stack, never unhandled_error", async () => {
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
    const app = createApp(routes);
    const send = async (path: string, headers: Record<string, string>, body: BodyInit) => {
      const exec = createExecutionContext();
      const res = await app(new Request(`https://vault.test${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body }), env, exec);
      await waitOnExecutionContext(exec);
      return res;
    };
    for (const [path, headers] of [
      ["/auth/login", {}],
      ["/admin/teams", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }],
    ] as const) {
      const res = await send(path, headers, brokenBody('{"name":"x'));
      const body = await res.json();
      expect(res.status, path).toBe(400);
      expect(body).toEqual({ error: "Request body incomplete", code: "body_incomplete" });
      expectErrorContract("POST", path, res.status, body);
    }
    const failures = lines.filter((l) => l.includes('"body_incomplete"'));
    expect(failures).toHaveLength(2);
    for (const line of failures) {
      const entry = JSON.parse(line.slice(line.indexOf("{")));
      expect(entry).toMatchObject({ level: "warn", event: "request_failed", status: 400, code: "body_incomplete" });
      expect(entry.stack).toBeUndefined();
    }
    expect(lines.filter((l) => l.includes("unhandled_error"))).toEqual([]);
    // Nothing was created: the next, complete request is the first team of that name.
    const next = await send("/admin/teams", { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, '{"name":"after"}');
    expect(next.status).toBe(201);
  });
});
