import { SESSION_TTL_SECONDS } from "../auth/jwt";
import { authenticateUser, type UserAuth } from "../auth/sessions";
import type { Env } from "../env";
import { AppError } from "../errors";

/**
 * The portal's browser session: the same session JWT the accounts API issues (auth/sessions.ts),
 * carried in a cookie instead of `Authorization`. Other modules that serve browser pages (the
 * OAuth callback, the approval page) read the signed-in user with `portalUserFromRequest`.
 *
 * The cookie is `__Host-tv_session` (HttpOnly, Secure, SameSite=Strict, Path=/) on https; on
 * plain-http localhost (the local dev server) browsers refuse `__Host-`/Secure cookies from
 * http, so it is `tv_session` without Secure there. Any other plain-http origin still gets the
 * Secure cookie, which the browser will not store: sign-in fails closed.
 */
export const SESSION_COOKIE = "__Host-tv_session";
export const SESSION_COOKIE_LOCAL = "tv_session";
/** The CSRF cookie (csrf.ts), named by the same rule. */
export const CSRF_COOKIE = "__Host-tv_csrf";
export const CSRF_COOKIE_LOCAL = "tv_csrf";
/** The team chosen in the switcher (not a credential: membership is checked on every request). */
export const TEAM_COOKIE = "__Host-tv_team";
export const TEAM_COOKIE_LOCAL = "tv_team";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** True for http://localhost, http://127.0.0.1 and http://[::1] (any port). */
export function isPlainLocalhost(url: URL): boolean {
  return url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
}

/** The cookie name for this request's origin: `secure` on https, `local` on plain-http localhost. */
export function cookieName(url: URL, names: { secure: string; local: string }): string {
  return isPlainLocalhost(url) ? names.local : names.secure;
}

export const sessionCookieName = (url: URL) => cookieName(url, { secure: SESSION_COOKIE, local: SESSION_COOKIE_LOCAL });

/** A cookie's value from the request's Cookie header (the first of that name). */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value with the portal's attributes (HttpOnly, SameSite=Strict, Path=/, Secure off plain-http localhost). */
export function setCookie(url: URL, name: string, value: string, maxAgeSeconds: number | undefined): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict"];
  if (!isPlainLocalhost(url)) parts.push("Secure");
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  return parts.join("; ");
}

export const sessionCookie = (url: URL, token: string) => setCookie(url, sessionCookieName(url), token, SESSION_TTL_SECONDS);
export const clearSessionCookie = (url: URL) => setCookie(url, sessionCookieName(url), "", 0);

/** The session token the browser sent, if any (not verified). */
export const sessionTokenFromRequest = (request: Request): string | undefined => {
  const value = readCookie(request, sessionCookieName(new URL(request.url)));
  return value && /^[A-Za-z0-9._-]{1,4096}$/.test(value) ? value : undefined;
};

export type PortalUser = UserAuth;

/**
 * The signed-in user of a browser request, or null (no cookie, a bad or expired token, or a
 * session ended by logout). Verified exactly as the API verifies a session token.
 */
export async function portalUserFromRequest(request: Request, env: Env): Promise<PortalUser | null> {
  const token = sessionTokenFromRequest(request);
  if (!token) return null;
  try {
    return await authenticateUser(env, new Headers({ authorization: `Bearer ${token}` }));
  } catch (error) {
    if (error instanceof AppError && (error.code === "invalid_session" || error.code === "session_required")) return null;
    throw error;
  }
}
