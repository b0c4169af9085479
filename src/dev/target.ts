/**
 * A local stand-in for third-party APIs, served by the Worker itself under /_dev/ only when
 * ENVIRONMENT is "development" (`npm run dev` sets it in the generated .dev.vars; it is never
 * in wrangler.toml). It lets the first task, and the README's fal and Replicate examples, run
 * without internet. Stateless: every id carries what later calls need.
 *
 *   ANY  /_dev/echo[/...]                        200 {"method","path","headers","body"}
 *   POST /_dev/fal/<model...>                    fal's queue submit: request_id, status_url, response_url
 *   GET  /_dev/fal/requests/<id>/status          {"status":"COMPLETED"}
 *   GET  /_dev/fal/requests/<id>                 the "result": {"images":[...],"prompt"}
 *   POST /_dev/replicate/v1/predictions          {"id","status":"starting","urls":{"get"}}
 *   GET  /_dev/replicate/v1/predictions/<id>     {"id","status":"succeeded","output":[...]}
 */
import type { Env } from "../env";

export const DEV_PREFIX = "/_dev/";

export function isDevTargetRequest(request: Request, env: Pick<Env, "ENVIRONMENT">): boolean {
  return env.ENVIRONMENT === "development" && new URL(request.url).pathname.startsWith(DEV_PREFIX);
}

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export async function devTarget(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname.slice(DEV_PREFIX.length - 1); // keeps the leading slash
  const body = await request.text();
  if (path === "/echo" || path.startsWith("/echo/")) {
    return json({ method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers), body });
  }
  const fal = /^\/fal\/requests\/([\w-]+)(\/status)?$/.exec(path);
  if (fal && request.method === "GET") {
    const prompt = decodeId(fal[1] ?? "");
    return fal[2] ? json({ status: "COMPLETED" }) : json({ images: [{ url: `${url.origin}/_dev/echo/image.png`, width: 1024, height: 768 }], prompt });
  }
  if (path.startsWith("/fal/") && request.method === "POST") {
    const id = encodeId(promptOf(body));
    const base = `${url.origin}/_dev/fal/requests/${id}`;
    return json({ request_id: id, status: "IN_QUEUE", status_url: `${base}/status`, response_url: base });
  }
  const prediction = /^\/replicate\/v1\/predictions(?:\/([\w-]+))?$/.exec(path);
  if (prediction?.[1] && request.method === "GET") {
    return json({ id: prediction[1], status: "succeeded", output: [`echo: ${decodeId(prediction[1])}`], error: null });
  }
  if (prediction && request.method === "POST") {
    const id = encodeId(promptOf(body));
    return json({ id, status: "starting", urls: { get: `${url.origin}/_dev/replicate/v1/predictions/${id}` } }, 201);
  }
  return json({ error: "Not found", code: "not_found" }, 404);
}

/** `prompt` or `input.prompt` of a JSON body, if any. */
function promptOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { prompt?: unknown; input?: { prompt?: unknown } };
    const prompt = parsed.prompt ?? parsed.input?.prompt;
    return typeof prompt === "string" ? prompt.slice(0, 200) : "";
  } catch {
    return "";
  }
}

function encodeId(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `r${btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
}

function decodeId(id: string): string {
  try {
    const b64 = id.slice(1).replace(/-/g, "+").replace(/_/g, "/");
    return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  } catch {
    return "";
  }
}
