import { createContext, type ActorOf, type KeyOrUserContext } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { newId } from "../ids";
import { log } from "../log";
import type { Plan } from "../plans";
import { myTeams, teamOfUser } from "../teams/members";
import type { Role } from "../teams/roles";
import { portalAssets } from "./assets";
import { csrfCookie, csrfRefusal, csrfToken } from "./csrf";
import { html, type Html } from "./html";
import { layout, type Frame } from "./layout";
import { cookieName, portalUserFromRequest, readCookie, TEAM_COOKIE, TEAM_COOKIE_LOCAL, type PortalUser } from "./session";

/**
 * The portal's request handling: security headers on every answer, the session and CSRF checks,
 * the team the user acts for, and the route table (routes.ts). Pages call the domain functions
 * the API calls, with a user context built here exactly as the API builds one.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const MAX_FORM_BYTES = 64 * 1024;

export type PortalContext = KeyOrUserContext & { readonly actor: ActorOf<"user">; readonly team: KeyOrUserContext["team"] & { plan: Plan } };

interface Base {
  request: Request;
  env: Env;
  url: URL;
  requestId: string;
  params: Record<string, string>;
  /** The posted form (POST only; its CSRF token already verified). */
  form: FormData;
  /** This page's CSRF token, for its forms. */
  csrf: string;
}
export interface PublicRequest extends Base {
  user: PortalUser | null;
}
export interface SignedInRequest extends Base {
  user: PortalUser;
  ctx: PortalContext;
  role: Role;
  teams: { id: string; name: string; role: Role }[];
  /** Renders a page in the signed-in frame. */
  page: (frame: Omit<Frame, "session">, body: Html, status?: number) => Promise<Response>;
}

export type Route =
  | { method: "GET" | "POST"; path: string; auth: "public"; handler: (r: PublicRequest) => Promise<Response> }
  | { method: "GET" | "POST"; path: string; auth: "user"; handler: (r: SignedInRequest) => Promise<Response> };

export const isPortalRequest = (url: URL) => url.pathname === "/portal" || url.pathname.startsWith("/portal/");

/** An HTML answer (no caching: every page may hold account data). */
export function htmlResponse(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers } });
}

export const redirect = (location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status: 303, headers: { location, "cache-control": "no-store", ...headers } });

/** `next` is followed only to a local portal path (no scheme, no host, no `//`, no backslash). */
export function safeNext(raw: string | null | undefined): string {
  const fallback = "/portal/vault";
  if (!raw || raw.length > 512 || !raw.startsWith("/portal") || /[\\\s]/.test(raw) || raw.startsWith("//")) return fallback;
  try {
    const resolved = new URL(raw, "https://portal.invalid");
    if (resolved.origin !== "https://portal.invalid") return fallback;
    if (resolved.pathname !== "/portal" && !resolved.pathname.startsWith("/portal/")) return fallback;
    if (resolved.pathname.includes("//")) return fallback;
    return resolved.pathname + resolved.search;
  } catch {
    return fallback;
  }
}

export const loginRedirect = (url: URL) => redirect(`/portal/login?next=${encodeURIComponent(url.pathname + url.search)}`);

function compile(routes: Route[]) {
  return routes.map((route) => {
    const names: string[] = [];
    const pattern = route.path.replace(/:([a-zA-Z]+)/g, (_, name: string) => {
      names.push(name);
      return "([A-Za-z0-9_-]{1,100})";
    });
    return { route, regex: new RegExp(`^${pattern}$`), names };
  });
}

async function errorPage(status: number, title: string, message: string, requestId?: string): Promise<Response> {
  const body = html`<div class="card narrow"><h1>${title}</h1><p>${message}</p>${requestId ? html`<p class="muted">Request id: <code>${requestId}</code></p>` : ""}<p><a href="/portal/vault">Back to the vault</a></p></div>`;
  return htmlResponse(await layout({ title }, body), status);
}

export function createPortal(routes: Route[]) {
  const table = compile(routes);

  async function dispatch(request: Request, env: Env, exec: ExecutionContext, requestId: string, url: URL): Promise<{ response: Response; pattern: string }> {
    if (url.pathname.startsWith("/portal/assets/")) {
      const { css, js } = await portalAssets();
      const asset = [css, js].find((a) => a.path === url.pathname);
      if (!asset) return { response: new Response("Not found", { status: 404, headers: { "content-type": "text/plain" } }), pattern: "/portal/assets/*" };
      return { response: new Response(asset.body, { headers: { "content-type": asset.contentType, "cache-control": "public, max-age=31536000, immutable" } }), pattern: "/portal/assets/*" };
    }
    const method = request.method === "HEAD" ? "GET" : request.method;
    let match: { route: Route; params: Record<string, string> } | undefined;
    let pathKnown = false;
    for (const { route, regex, names } of table) {
      const m = regex.exec(url.pathname);
      if (!m) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      match = { route, params: Object.fromEntries(names.map((n, i) => [n, m[i + 1] ?? ""])) };
      break;
    }
    if (!match) {
      return pathKnown
        ? { response: await errorPage(405, "Method not allowed", "This page does not accept that kind of request."), pattern: url.pathname }
        : { response: await errorPage(404, "Not found", "There is no such page."), pattern: "unmatched" };
    }
    const { route, params } = match;
    const cookie = csrfCookie(request);
    const user = await portalUserFromRequest(request, env);
    if (route.auth === "user" && !user) {
      return { response: method === "GET" ? loginRedirect(url) : redirect("/portal/login"), pattern: route.path };
    }
    let form = new FormData();
    if (method === "POST") {
      const type = request.headers.get("content-type") ?? "";
      if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type)) return { response: await errorPage(415, "Unsupported form", "Send this form from the page."), pattern: route.path };
      const length = Number(request.headers.get("content-length") ?? "0");
      if (length > MAX_FORM_BYTES) return { response: await errorPage(413, "Form too large", "The form is larger than the portal accepts."), pattern: route.path };
      try {
        const body = await request.arrayBuffer();
        if (body.byteLength > MAX_FORM_BYTES) return { response: await errorPage(413, "Form too large", "The form is larger than the portal accepts."), pattern: route.path };
        form = await new Request(url, { method: "POST", headers: { "content-type": type }, body }).formData();
      } catch {
        return { response: await errorPage(400, "Unreadable form", "The form could not be read. Reload the page and try again."), pattern: route.path };
      }
      const refusal = await csrfRefusal(request, env, form, user?.userId);
      if (refusal) {
        log.warn("portal_csrf_refused", { requestId, route: route.path, reason: refusal, origin: request.headers.get("origin")?.slice(0, 100), expected: url.origin });
        return { response: await errorPage(403, "Form refused", "This form was not sent from this site, or it expired. Reload the page and try again."), pattern: route.path };
      }
    }
    const csrf = await csrfToken(env, cookie.value, user?.userId);
    const base = { request, env, url, requestId, params, form, csrf };
    let response: Response;
    if (route.auth === "public") {
      response = await route.handler({ ...base, user });
    } else {
      const signedIn = await signIn(base, user!, exec, request);
      response = signedIn ? await route.handler(signedIn) : await noTeamPage(base, user!);
    }
    if (cookie.setCookie) response.headers.append("set-cookie", cookie.setCookie);
    return { response, pattern: route.path };
  }

  return async function portal(request: Request, env: Env, exec: ExecutionContext): Promise<Response> {
    const requestId = newId.request();
    const started = Date.now();
    const url = new URL(request.url);
    let result: { response: Response; pattern: string };
    try {
      result = await dispatch(request, env, exec, requestId, url);
    } catch (error) {
      result = { response: await failurePage(error, requestId), pattern: "error" };
    }
    let response = result.response;
    if (request.method === "HEAD") response = new Response(null, response);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
    response.headers.set("X-Request-Id", requestId);
    // The route pattern, never the raw path or query (a pasted secret could sit there).
    log.info("request", { requestId, method: request.method, route: `portal:${result.pattern}`, status: response.status, ms: Date.now() - started });
    return response;
  };
}

async function failurePage(error: unknown, requestId: string): Promise<Response> {
  if (error instanceof AppError && error.status < 500) {
    return errorPage(error.status, error.status === 404 ? "Not found" : error.status === 403 ? "Not allowed" : "Request refused", error.message);
  }
  log.error("portal_error", {
    requestId,
    errorName: error instanceof Error ? error.name : typeof error,
    code: error instanceof AppError ? error.code : undefined,
    errorMessage: error instanceof AppError ? error.message : undefined,
  });
  if (error instanceof AppError) return errorPage(error.status, "Unavailable", error.message, requestId);
  return errorPage(500, "Something went wrong", "The vault could not complete this request.", requestId);
}

/** The team switcher's cookie. */
export const teamCookieName = (url: URL) => cookieName(url, { secure: TEAM_COOKIE, local: TEAM_COOKIE_LOCAL });

/** The user's context for the team they act for (the switcher's choice when still a member, else their first team). */
async function signIn(base: Base, user: PortalUser, exec: ExecutionContext, request: Request): Promise<SignedInRequest | undefined> {
  const { env, requestId } = base;
  const actor = { type: "user" as const, id: user.userId, email: user.email };
  const clientAddress = request.headers.get("cf-connecting-ip") ?? undefined;
  const userCtx = createContext({ requestId, env, exec, actor, clientAddress });
  const teams = await myTeams(userCtx);
  const wanted = readCookie(request, teamCookieName(base.url));
  const chosen = teams.find((t) => t.id === wanted) ?? teams[0];
  if (!chosen) return undefined;
  const team = await teamOfUser(env.DB, user.userId, chosen.id);
  const ctx = createContext({ requestId, env, exec, actor, clientAddress, team });
  const session = { email: user.email, teams: teams.map((t) => ({ id: t.id, name: t.name, role: t.role })), teamId: chosen.id, csrf: base.csrf };
  return {
    ...base,
    user,
    ctx,
    role: chosen.role,
    teams: session.teams,
    page: async (frame, body, status = 200) => htmlResponse(await layout({ ...frame, session }, body), status),
  };
}

async function noTeamPage(base: Base, user: PortalUser): Promise<Response> {
  const body = html`<div class="card narrow"><h1>No team</h1><p>You are not a member of any team. Ask a team's owner to invite you.</p></div>`;
  return htmlResponse(await layout({ title: "No team", session: { email: user.email, teams: [], teamId: undefined, csrf: base.csrf } }, body));
}
