import { base64ToBytes, bytesToBase64, timingSafeEqual, utf8 } from "../encoding";

/**
 * Password hashing: PBKDF2-HMAC-SHA256 with a per-user random 16-byte salt. Workers' WebCrypto
 * caps PBKDF2 at 100,000 iterations, so that is the cost; it is stored with each hash
 * (`pbkdf2-sha256$<iterations>$<salt>$<hash>`) so it can be raised later and old hashes still verify.
 */
export const PBKDF2_ITERATIONS = 100_000;
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "./password-rules";

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${bytesToBase64(salt)}$${bytesToBase64(hash)}`;
}

/** A hash of a password no one has, so an unknown email costs the same as a wrong password. */
const DUMMY_HASH = `pbkdf2-sha256$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [algo, iterations, salt, hash] = (stored ?? DUMMY_HASH).split("$");
  if (algo !== "pbkdf2-sha256" || !iterations || !salt || !hash) return false;
  const candidate = await derive(password, base64ToBytes(salt), Number(iterations));
  return timingSafeEqual(candidate, base64ToBytes(hash)) && stored !== null;
}
