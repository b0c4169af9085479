import { z } from "zod";
import { AppError } from "../errors";
import { zodIssues } from "./errors";
import { readUpTo } from "./stream";

export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

/**
 * Reads and validates a JSON body: 415 for another content type, 413 past the size limit
 * (checked while streaming, not only from Content-Length), 400 for malformed JSON, a body the
 * schema refuses, or a body the sender broke off. Parse errors are not echoed: they quote the
 * input, which may be a secret.
 */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<z.output<S>> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
    throw new AppError("unsupported_media_type");
  }
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readLimited(request, maxBytes);
  if (text.trim() === "") throw new AppError("malformed_body", "Request body is required");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AppError("malformed_body");
  }
  return parseWith(schema, data, "body");
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: "body" | "query" | "params" | "headers"): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new AppError("validation_failed", `Invalid request ${where}`, { issues: zodIssues(result.error, where) });
  }
  return result.data;
}

function tooLarge(maxBytes: number) {
  return new AppError("payload_too_large", `Request body too large: the limit is ${maxBytes} bytes`, { limitBytes: maxBytes });
}

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  let read: Awaited<ReturnType<typeof readUpTo>>;
  try {
    read = await readUpTo(request.body, maxBytes, "drain");
  } catch (error) {
    // The body stream fails only when the sender broke off mid-body (e.g. "Network connection
    // lost"): the client's doing, not the server's. A 400 and one warn line (the translator logs
    // `internal`), never unhandled_error with a stack. Nothing has been changed yet.
    throw new AppError("body_incomplete", undefined, {}, { internal: "request body stream failed", cause: error });
  }
  const { bytes, overflowed } = read;
  if (overflowed) throw tooLarge(maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError("malformed_body", "Request body is not valid UTF-8");
  }
}
