import { bytesToBase64Url, sha256Hex, utf8 } from "../encoding";

/** PKCE (RFC 7636) and the state parameter: random values, the challenge S256. */
export function randomToken(bytes = 32): string {
  return bytesToBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(verifier));
  return bytesToBase64Url(new Uint8Array(digest));
}

/** States are stored hashed: a read of the table cannot complete anybody's flow. */
export const hashState = (state: string) => sha256Hex(`oauth-state|${state}`);
