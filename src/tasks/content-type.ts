/**
 * The Content-Type a task's body is sent with when the task names none. fetch() would label
 * every string body `text/plain;charset=UTF-8`, and JSON APIs (Replicate, fal) refuse that;
 * a body that is a JSON object or array is what such a task means, so it goes as JSON.
 */
export function withDefaultContentType(headers: Record<string, string>, body: string | undefined): Record<string, string> {
  if (body === undefined || Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) return headers;
  return isJsonDocument(body) ? { ...headers, "content-type": "application/json" } : headers;
}

/** A JSON object or array; a bare string or number is more likely meant as text. */
export function isJsonDocument(body: string): boolean {
  const start = body.trimStart()[0];
  if (start !== "{" && start !== "[") return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}
