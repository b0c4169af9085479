import { AppError } from "../errors";
import { base64ToBytes, bytesToBase64Url, utf8 } from "../encoding";
import type { Env } from "../env";

/**
 * Session tokens: compact JWS, HS256 only, signed with the JWT_SECRET Worker secret. Anything
 * else in the header (`alg: none`, RS256, a `kid` we do not use) is refused; the signature is
 * checked with WebCrypto's constant-time verify before the payload is trusted.
 */
export const SESSION_TTL_SECONDS = 3600;
const MIN_SECRET_LENGTH = 32;

export interface SessionClaims {
  sub: string;
  iat: number;
  exp: number;
  /** The user's session version at issue; logout bumps it, refusing all older tokens. */
  sv: number;
}

const keys = new Map<string, Promise<CryptoKey>>();

function signingKey(env: Pick<Env, "JWT_SECRET">): Promise<CryptoKey> {
  const secret = env.JWT_SECRET?.trim();
  if (!secret || secret.length < MIN_SECRET_LENGTH) {
    throw new AppError("not_configured", `Sessions are not configured: set JWT_SECRET to at least ${MIN_SECRET_LENGTH} random characters`);
  }
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.clear();
    keys.set(secret, key);
  }
  return key;
}

const encodeJson = (value: unknown) => bytesToBase64Url(utf8.encode(JSON.stringify(value)));
const HEADER = encodeJson({ alg: "HS256", typ: "JWT" });

export async function signSession(env: Pick<Env, "JWT_SECRET">, userId: string, sessionVersion: number, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  const claims: SessionClaims = { sub: userId, iat, exp: iat + SESSION_TTL_SECONDS, sv: sessionVersion };
  const unsigned = `${HEADER}.${encodeJson(claims)}`;
  const signature = await crypto.subtle.sign("HMAC", await signingKey(env), utf8.encode(unsigned));
  return `${unsigned}.${bytesToBase64Url(new Uint8Array(signature))}`;
}

const invalid = () => new AppError("invalid_session");

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(utf8.decode(base64ToBytes(part)));
  } catch {
    return undefined;
  }
}

/** Returns the claims of a valid, unexpired token; 401 for anything else. */
export async function verifySession(env: Pick<Env, "JWT_SECRET">, token: string, now = Date.now()): Promise<SessionClaims> {
  const key = await signingKey(env);
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw invalid();
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart) as { alg?: unknown; typ?: unknown; [k: string]: unknown } | undefined;
  if (!header || header.alg !== "HS256" || Object.keys(header).some((k) => k !== "alg" && k !== "typ")) throw invalid();
  let signature: Uint8Array;
  try {
    signature = base64ToBytes(signaturePart);
  } catch {
    throw invalid();
  }
  const ok = await crypto.subtle.verify("HMAC", key, signature, utf8.encode(`${headerPart}.${payloadPart}`));
  if (!ok) throw invalid();
  const claims = decodeJson(payloadPart) as Partial<SessionClaims> | undefined;
  if (!claims || typeof claims.sub !== "string" || typeof claims.exp !== "number" || typeof claims.iat !== "number" || typeof claims.sv !== "number") {
    throw invalid();
  }
  if (claims.exp <= Math.floor(now / 1000)) throw invalid();
  return claims as SessionClaims;
}
