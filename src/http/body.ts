import { z } from "zod";
import { ApiError, zodIssues } from "./errors";
import { readUpTo } from "./stream";

export const DEFAULT_MAX_BODY_BYTES = 512 * 1024;

/**
 * Reads and validates a JSON body: 415 for another content type, 413 past the size limit
 * (checked while streaming, not only from Content-Length), 400 for malformed JSON or a body
 * the schema refuses. Parse errors are not echoed: they quote the input, which may be a secret.
 */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<z.output<S>> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType.trim())) {
    throw new ApiError(415, "Content-Type must be application/json");
  }
  const declared = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = await readLimited(request, maxBytes);
  if (text.trim() === "") throw new ApiError(400, "Request body is required");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ApiError(400, "Malformed JSON body");
  }
  return parseWith(schema, data, "body");
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: "body" | "query" | "params" | "headers"): z.output<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new ApiError(400, `Invalid request ${where}`, { issues: zodIssues(result.error, where) });
  }
  return result.data;
}

function tooLarge(maxBytes: number) {
  return new ApiError(413, `Request body too large: the limit is ${maxBytes} bytes`, { limitBytes: maxBytes }, { Connection: "close" });
}

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  const { bytes, overflowed } = await readUpTo(request.body, maxBytes, "drain");
  if (overflowed) throw tooLarge(maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "Request body is not valid UTF-8");
  }
}
