import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes, utf8 } from "../encoding";

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` (unix
 * seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>`,
 * where the key is the base64 part of the `whsec_...` secret, decoded. Several signatures are
 * separated by spaces: during a rotation's grace period one per secret, so a receiver holding
 * either secret verifies the delivery with an off-the-shelf library.
 */
export interface StandardHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** The HMAC key of a `whsec_<base64>` secret (secrets made before issue 16 are base64url; both decode). */
export function signingKey(secret: string): Uint8Array {
  const key = base64ToBytes(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
  if (key.length === 0) throw new Error("empty webhook secret");
  return key;
}

export async function standardSignature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", signingKey(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, utf8.encode(`${id}.${timestamp}.${body}`));
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

/** The three headers of one delivery, signed with every secret given (current first). */
export async function standardHeaders(secrets: readonly string[], id: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Promise<StandardHeaders> {
  const signatures = await Promise.all(secrets.map((secret) => standardSignature(secret, id, timestamp, body)));
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}

/**
 * Deprecated (kept for one release behind LEGACY_WEBHOOK_SIGNATURE): `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the HMAC key
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
