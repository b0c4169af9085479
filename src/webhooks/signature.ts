import { bytesToHex, hexToBytes, utf8 } from "../encoding";

/**
 * `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the HMAC key
 * is the whole secret string (`whsec_...`) as UTF-8. Receivers recompute it over the raw body
 * and reject timestamps older than a few minutes.
 */
function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", utf8.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

export async function signatureHeader(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), utf8.encode(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${bytesToHex(new Uint8Array(mac))}`;
}

/** Checks the HMAC with WebCrypto's verify (constant time), within the timestamp tolerance. */
export async function verifySignature(secret: string, body: string, header: string, toleranceSeconds = 300, now = Date.now()): Promise<boolean> {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!parts.v1 || !Number.isInteger(t) || Math.abs(now / 1000 - t) > toleranceSeconds) return false;
  let mac: Uint8Array;
  try {
    mac = hexToBytes(parts.v1);
  } catch {
    return false;
  }
  return crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), mac, utf8.encode(`${t}.${body}`));
}
