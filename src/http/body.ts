import { z } from "zod";
import { ApiError, zodIssues } from "./errors";

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
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Drain (bounded) rather than cancel: cancelling a request body mid-upload can take the
      // local runtime's connection down with it and fail the next, innocent request.
      let drained = total;
      while (drained < maxBytes * 4) {
        const next = await reader.read();
        if (next.done) break;
        drained += next.value.byteLength;
      }
      if (drained >= maxBytes * 4) await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError(400, "Request body is not valid UTF-8");
  }
}
