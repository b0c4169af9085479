import { base64ToBytes, bytesToBase64, utf8 } from "../encoding";
import type { Keyring } from "./keyring";

/**
 * Per-team AES-256-GCM keys derived from the master key with HKDF-SHA256, and the
 * encrypt/decrypt of one secret. The additional authenticated data binds a ciphertext to its
 * team, token id and key version, so a ciphertext copied to another row or team, or relabelled
 * with another key version, fails to decrypt instead of yielding someone else's secret.
 */
export const HKDF_INFO_PREFIX = "token-vault/team-key/v1";

export function hkdfInfo(teamId: string, version: number): string {
  return `${HKDF_INFO_PREFIX}|team:${teamId}|key-version:${version}`;
}

export function secretAad(teamId: string, tokenId: string, version: number): string {
  return `token-vault/secret/v1|team:${teamId}|token:${tokenId}|key-version:${version}`;
}

export interface TeamKeyMaterial {
  teamId: string;
  /** The team's random HKDF salt (base64), stored on the team row. */
  salt: string;
}

export interface SealedSecret {
  ciphertext: string;
  iv: string;
  keyVersion: number;
}

const MAX_CACHED_KEYS = 2048;
const teamKeys = new Map<string, Promise<CryptoKey>>();

/** Derives (once per isolate) the non-extractable AES-GCM key of a team for a master key version. */
export function teamKey(keyring: Keyring, team: TeamKeyMaterial, version: number): Promise<CryptoKey> {
  const cacheKey = `${keyring.fingerprint}|${version}|${team.teamId}|${team.salt}`;
  const hit = teamKeys.get(cacheKey);
  if (hit) return hit;
  const derived = crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: base64ToBytes(team.salt), info: utf8.encode(hkdfInfo(team.teamId, version)) },
    keyring.baseKey(version),
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  if (teamKeys.size >= MAX_CACHED_KEYS) {
    const oldest = teamKeys.keys().next().value;
    if (oldest !== undefined) teamKeys.delete(oldest);
  }
  teamKeys.set(cacheKey, derived);
  derived.catch(() => teamKeys.delete(cacheKey));
  return derived;
}

export async function sealSecret(
  keyring: Keyring,
  team: TeamKeyMaterial,
  tokenId: string,
  plaintext: string,
  version: number = keyring.activeVersion,
): Promise<SealedSecret> {
  const key = await teamKey(keyring, team, version);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(secretAad(team.teamId, tokenId, version)) },
    key,
    utf8.encode(plaintext),
  );
  return { ciphertext: bytesToBase64(new Uint8Array(ciphertext)), iv: bytesToBase64(iv), keyVersion: version };
}

/** Fails closed: any tampering, relabelling or wrong key throws VaultDecryptError. */
export async function openSecret(
  keyring: Keyring,
  team: TeamKeyMaterial,
  tokenId: string,
  sealed: SealedSecret,
): Promise<string> {
  const key = await teamKey(keyring, team, sealed.keyVersion);
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: base64ToBytes(sealed.iv),
        additionalData: utf8.encode(secretAad(team.teamId, tokenId, sealed.keyVersion)),
      },
      key,
      base64ToBytes(sealed.ciphertext),
    );
    return utf8.decode(plaintext);
  } catch {
    throw new VaultDecryptError(tokenId);
  }
}

export class VaultDecryptError extends Error {
  constructor(readonly tokenId: string) {
    super(`ciphertext of ${tokenId} failed authentication`);
    this.name = "VaultDecryptError";
  }
}
