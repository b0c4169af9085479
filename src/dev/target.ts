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
 *   GET  /_dev/oauth/authorize                   an OAuth provider's consent: redirects back with ?code&state
 *   POST /_dev/oauth/token                       its token endpoint: authorization_code (PKCE S256 checked)
 *                                                and refresh_token grants (refresh tokens "dev-rt-..."; others invalid_grant)
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
  if (path === "/oauth/authorize" && request.method === "GET") return devAuthorize(url);
  if (path === "/oauth/token" && request.method === "POST") return devToken(body);
  return json({ error: "Not found", code: "not_found" }, 404);
}

/** Consent granted at once; the code carries the challenge and redirect URI it was issued for. */
function devAuthorize(url: URL): Response {
  const redirect = url.searchParams.get("redirect_uri");
  const state = url.searchParams.get("state");
  if (!redirect || !state || url.searchParams.get("code_challenge_method") !== "S256") return json({ error: "invalid_request" }, 400);
  const back = new URL(redirect);
  back.searchParams.set("code", encodeId(JSON.stringify({ c: url.searchParams.get("code_challenge"), r: redirect })));
  back.searchParams.set("state", state);
  return new Response(null, { status: 302, headers: { location: back.toString() } });
}

async function devToken(body: string): Promise<Response> {
  const form = new URLSearchParams(body);
  const issue = () => {
    const random = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    return json({ access_token: `dev-at-${random()}`, token_type: "Bearer", expires_in: 3600, refresh_token: `dev-rt-${random()}` });
  };
  if (form.get("grant_type") === "refresh_token") {
    return (form.get("refresh_token") ?? "").startsWith("dev-rt-") ? issue() : json({ error: "invalid_grant", error_description: "unknown refresh token" }, 400);
  }
  if (form.get("grant_type") === "authorization_code") {
    let issued: { c?: string; r?: string } = {};
    try {
      issued = JSON.parse(decodeId(form.get("code") ?? "")) as { c?: string; r?: string };
    } catch {
      issued = {};
    }
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(form.get("code_verifier") ?? ""));
    const challenge = btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (!issued.c || issued.c !== challenge || issued.r !== form.get("redirect_uri")) return json({ error: "invalid_grant", error_description: "bad code or verifier" }, 400);
    return issue();
  }
  return json({ error: "unsupported_grant_type" }, 400);
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
