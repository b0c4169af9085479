import { describe, expect, it } from "vitest";
import { AppError } from "../src/errors";
import { toErrorResponse } from "../src/http/errors";
import { VaultConfigError } from "../src/vault/keyring";
import { CANARY } from "./helpers/constants";

/** The http layer's one translator: domain errors in, `{error, code, ...details}` out. */
describe("toErrorResponse", () => {
  it("sends the message, the code and the details, with the catalog's status", async () => {
    const res = toErrorResponse(new AppError("max_wait_exceeded", "wait exceeds the free plan's max wait time of 30 seconds", { maxWaitSeconds: 30 }), "req_1");
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('{"error":"wait exceeds the free plan\'s max wait time of 30 seconds","code":"max_wait_exceeded","maxWaitSeconds":30}');
  });

  it("uses the catalog's message by default", async () => {
    const res = toErrorResponse(new AppError("access_denied"), "req_1");
    expect([res.status, await res.text()]).toEqual([403, '{"error":"Access denied","code":"access_denied"}']);
  });

  it("never sends the internal reason or the cause, and turns Retry-After into a header", async () => {
    const cause = new Error(`queue exploded near ${CANARY}`);
    const res = toErrorResponse(new AppError("too_many_attempts", undefined, {}, { retryAfterSeconds: 42, internal: "limiter said no", cause }), "req_1");
    const text = await res.text();
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("42");
    expect(text).toBe('{"error":"Too many attempts, try again later","code":"too_many_attempts"}');
    expect(text).not.toContain("limiter");
    expect(text).not.toContain(CANARY);
  });

  it("closes the connection on payload_too_large", () => {
    expect(toErrorResponse(new AppError("payload_too_large", "Request body too large", { limitBytes: 1 }), "req_1").headers.get("connection")).toBe("close");
  });

  it("maps anything else to internal_error with the request id, sending nothing of it", async () => {
    const res = toErrorResponse(new TypeError(`boom ${CANARY}`), "req_2");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('{"error":"Internal error","code":"internal_error","requestId":"req_2"}');
  });

  it("keeps domain error classes in the catalog", () => {
    const error = new VaultConfigError("set VAULT_MASTER_KEY");
    expect(error).toBeInstanceOf(AppError);
    expect([error.code, error.status, error.message]).toEqual(["not_configured", 503, "Vault is not configured: set VAULT_MASTER_KEY"]);
  });
});
