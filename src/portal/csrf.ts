import { base64ToBytes, bytesToBase64Url, timingSafeEqual, utf8 } from "../encoding";
import type { Env } from "../env";
import { AppError } from "../errors";
import { CSRF_COOKIE, CSRF_COOKIE_LOCAL, cookieName, readCookie, setCookie } from "./session";

/**
 * CSRF protection of every state-changing form: a random value in an HttpOnly, SameSite=Strict
 * cookie (`__Host-` on https), and in each form a token that is the HMAC of that value and the
 * signed-in user (empty before sign-in) under a key derived from JWT_SECRET. A POST is accepted
 * only with a matching token, and only when its Origin (if sent) is this origin. Another site
 * can neither read the cookie nor compute the token.
 */
export const CSRF_FIELD = "_csrf";

const csrfCookieName = (url: URL) => cookieName(url, { secure: CSRF_COOKIE, local: CSRF_COOKIE_LOCAL });

const keys = new Map<string, Promise<CryptoKey>>();
function csrfKey(env: Pick<Env, "JWT_SECRET">): Promise<CryptoKey> {
  const secret = env.JWT_SECRET?.trim();
  if (!secret) throw new AppError("not_configured", "Sessions are not configured: set JWT_SECRET");
  let key = keys.get(secret);
  if (!key) {
    // A key of its own (the label), so a CSRF token is never a valid session signature.
    key = crypto.subtle.importKey("raw", utf8.encode(`portal-csrf:${secret}`), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.clear();
    keys.set(secret, key);
  }
  return key;
}

async function tokenFor(env: Pick<Env, "JWT_SECRET">, cookieValue: string, userId: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await csrfKey(env), utf8.encode(`${cookieValue}|${userId}`));
  return bytesToBase64Url(new Uint8Array(mac));
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The request's CSRF cookie value, or a fresh one with the Set-Cookie header to send. */
export function csrfCookie(request: Request): { value: string; setCookie?: string } {
  const url = new URL(request.url);
  const existing = readCookie(request, csrfCookieName(url));
  if (existing && COOKIE_VALUE.test(existing)) return { value: existing };
  const value = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)));
  // A session cookie (no Max-Age): it lives as long as the browser session.
  return { value, setCookie: setCookie(url, csrfCookieName(url), value, undefined) };
}

export const csrfToken = (env: Pick<Env, "JWT_SECRET">, cookieValue: string, userId: string | undefined) => tokenFor(env, cookieValue, userId ?? "");

/**
 * Why a POST is refused (undefined: accepted): it must carry this browser's token for this user
 * and, when the browser names its Origin, come from this origin.
 */
export async function csrfRefusal(request: Request, env: Pick<Env, "JWT_SECRET">, form: FormData, userId: string | undefined): Promise<string | undefined> {
  const url = new URL(request.url);
  // The portal's own pages send `Origin: null` (their Referrer-Policy is no-referrer): the token decides then.
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null" && origin !== url.origin) return "origin";
  const cookie = readCookie(request, csrfCookieName(url));
  if (!cookie || !COOKIE_VALUE.test(cookie)) return "no_cookie";
  const sent = form.get(CSRF_FIELD);
  if (typeof sent !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(sent)) return "no_token";
  const expected = await tokenFor(env, cookie, userId ?? "");
  return timingSafeEqual(base64ToBytes(sent), base64ToBytes(expected)) ? undefined : "token_mismatch";
}
