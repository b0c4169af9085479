import { bytesToHex, timingSafeEqual, utf8 } from "../encoding";

/**
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the HMAC key
 * is the whole secret string (`whsec_...`) as UTF-8. Receivers recompute it over the raw body
 * and reject timestamps older than a few minutes.
 */
async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return bytesToHex(new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(message))));
}

export async function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${timestamp},v1=${await hmacHex(secret, `${timestamp}.${body}`)}`;
}

export async function verifySignature(secret: string, body: string, header: string, toleranceSeconds = 300, now = Date.now()): Promise<boolean> {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!parts.v1 || !Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, `${t}.${body}`);
  return timingSafeEqual(utf8.encode(expected), utf8.encode(parts.v1));
}
