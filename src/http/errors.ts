import { ZodError } from "zod";
import { log } from "../log";

/**
 * The one error type of the API. Its message and details are sent to the client as
 * `{"error": message, ...details}`; never put a secret or an internal reason in them.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const Errors = {
  badRequest: (message: string, details?: Record<string, unknown>) => new ApiError(400, message, details),
  apiKeyRequired: () => new ApiError(401, "API key required"),
  invalidApiKey: () => new ApiError(401, "Invalid or revoked API key"),
  accessDenied: () => new ApiError(403, "Access denied"),
  notFound: (message = "Not found") => new ApiError(404, message),
  conflict: (message: string, details?: Record<string, unknown>) => new ApiError(409, message, details),
};

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

/** Translates anything thrown while serving a request into the API's one JSON error shape. */
export function toErrorResponse(error: unknown, requestId: string): Response {
  if (error instanceof ApiError) {
    // Server-side conditions (e.g. a misconfigured vault) must reach the operator's logs too.
    if (error.status >= 500) log.error("server_error", { requestId, status: error.status, errorName: error.name, errorMessage: error.message });
    return json({ error: error.message, ...error.details }, error.status, error.headers);
  }
  // Internal reasons are logged with the request id, never sent.
  log.error("unhandled_error", {
    requestId,
    errorName: error instanceof Error ? error.name : typeof error,
    errorMessage: error instanceof Error ? error.message : undefined,
    stack: error instanceof Error ? error.stack : undefined,
  });
  return json({ error: "Internal error", requestId }, 500);
}
