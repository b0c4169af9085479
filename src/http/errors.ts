import { ZodError } from "zod";
import { AppError } from "../errors";
import { log } from "../log";

/** Zod issues become a 400 naming each offending field by path; input values are never echoed. */
export function zodIssues(error: ZodError, where: "body" | "query" | "params" | "headers") {
  return error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * The one translator from anything thrown while serving a request to the API's error shape,
 * `{"error": message, "code": code, ...details}`. Internal reasons are logged with the request
 * id, never sent.
 */
export function toErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof AppError) {
    // Server-side conditions (e.g. a misconfigured vault) must reach the operator's logs too.
    if (error.status >= 500 || error.internal) {
      log[error.status >= 500 ? "error" : "warn"]("request_failed", {
        requestId,
        status: error.status,
        code: error.code,
        errorMessage: error.message,
        internal: error.internal,
        causeName: error.cause instanceof Error ? error.cause.name : undefined,
      });
    }
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined) headers["Retry-After"] = String(error.retryAfterSeconds);
    // The client may still be sending the rest of an oversized body: do not reuse the connection.
    if (error.code === "payload_too_large") headers.Connection = "close";
    return json({ error: error.message, code: error.code, ...error.details }, error.status, headers);
  }
  log.error("unhandled_error", {
    requestId,
    errorName: error instanceof Error ? error.name : typeof error,
    errorMessage: error instanceof Error ? error.message : undefined,
    stack: error instanceof Error ? error.stack : undefined,
  });
  return json({ error: "Internal error", code: "internal_error", requestId }, 500);
}
