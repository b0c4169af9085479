import { AppError } from "../errors";
import { base64ToBytes, hexToBytes, sha256Hex, timingSafeEqual } from "../encoding";
import type { Env } from "../env";

/**
 * The master keyring: one or more versioned 32-byte master keys, imported as non-extractable
 * HKDF base keys. The highest version encrypts new rows; older versions still decrypt, which
 * is what lets an operator rotate the master key (see reencrypt.ts).
 */
export interface Keyring {
  activeVersion: number;
  versions: number[];
  /** Stable, non-secret identity of the configuration, used to key derived-key caches. */
  fingerprint: string;
  baseKey(version: number): CryptoKey;
}

/** An operator mistake in the vault's configuration: refused loudly, never worked around. */
export class VaultConfigError extends AppError {
  constructor(reason: string) {
    super("not_configured", `Vault is not configured: ${reason}`);
    this.name = "VaultConfigError";
  }
}

/** Accepts exactly 32 bytes as 64 hex characters or base64/base64url; anything weaker is refused. */
export function parseMasterKey(raw: string, label: string): Uint8Array {
  const value = raw.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]+$/.test(value) && value.length === 64) {
    bytes = hexToBytes(value);
  } else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    try {
      bytes = base64ToBytes(value);
    } catch {
      bytes = undefined;
    }
  }
  if (!bytes || bytes.length !== 32) {
    throw new VaultConfigError(`${label} must be 32 random bytes, as 64 hex characters or base64 (openssl rand -hex 32)`);
  }
  if (new Set(bytes).size < 8) {
    throw new VaultConfigError(`${label} has too little entropy; generate it with openssl rand -hex 32`);
  }
  return bytes;
}

/** Parses VAULT_MASTER_KEYS ("1:<key>,2:<key>") or, failing that, VAULT_MASTER_KEY as version 1. */
export function parseKeyringConfig(env: Pick<Env, "VAULT_MASTER_KEY" | "VAULT_MASTER_KEYS">): Map<number, Uint8Array> {
  const keys = new Map<number, Uint8Array>();
  const list = env.VAULT_MASTER_KEYS?.trim();
  if (list) {
    for (const entry of list.split(/[,\s]+/).filter(Boolean)) {
      const match = /^(\d{1,6}):(.+)$/.exec(entry);
      if (!match) throw new VaultConfigError('VAULT_MASTER_KEYS entries must look like "<version>:<key>"');
      const version = Number(match[1]);
      if (version < 1) throw new VaultConfigError("VAULT_MASTER_KEYS versions start at 1");
      if (keys.has(version)) throw new VaultConfigError(`VAULT_MASTER_KEYS lists version ${version} twice`);
      keys.set(version, parseMasterKey(match[2] ?? "", `VAULT_MASTER_KEYS version ${version}`));
    }
    // A VAULT_MASTER_KEY left in place during a rotation is version 1, not silently dropped.
    if (env.VAULT_MASTER_KEY?.trim()) {
      const single = parseMasterKey(env.VAULT_MASTER_KEY, "VAULT_MASTER_KEY");
      const listed = keys.get(1);
      if (!listed) keys.set(1, single);
      else if (!timingSafeEqual(single, listed)) {
        throw new VaultConfigError("VAULT_MASTER_KEY differs from version 1 of VAULT_MASTER_KEYS; keep one of them");
      }
    }
  } else if (env.VAULT_MASTER_KEY?.trim()) {
    keys.set(1, parseMasterKey(env.VAULT_MASTER_KEY, "VAULT_MASTER_KEY"));
  } else {
    throw new VaultConfigError("set VAULT_MASTER_KEY (openssl rand -hex 32) or VAULT_MASTER_KEYS");
  }
  return keys;
}

let cached: { source: string; keyring: Promise<Keyring> } | undefined;

/** The keyring for this isolate, imported once per configuration. */
export function getKeyring(env: Pick<Env, "VAULT_MASTER_KEY" | "VAULT_MASTER_KEYS">): Promise<Keyring> {
  const source = `${env.VAULT_MASTER_KEYS ?? ""}\u0000${env.VAULT_MASTER_KEY ?? ""}`;
  if (cached?.source === source) return cached.keyring;
  const keyring = buildKeyring(parseKeyringConfig(env));
  cached = { source, keyring };
  // A failed import must not stay cached.
  keyring.catch(() => {
    if (cached?.keyring === keyring) cached = undefined;
  });
  return keyring;
}

async function buildKeyring(raw: Map<number, Uint8Array>): Promise<Keyring> {
  const imported = new Map<number, CryptoKey>();
  for (const [version, bytes] of raw) {
    imported.set(version, await crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]));
  }
  const versions = [...imported.keys()].sort((a, b) => a - b);
  const activeVersion = versions[versions.length - 1] ?? 1;
  // Identifies this configuration for in-memory caches only; never logged or sent.
  const fingerprint = await sha256Hex(
    versions.map((v) => `${v}:${[...(raw.get(v) ?? [])].join(".")}`).join("|"),
  );
  return {
    activeVersion,
    versions,
    fingerprint: fingerprint.slice(0, 16),
    baseKey(version) {
      const key = imported.get(version);
      if (!key) throw new VaultKeyVersionError(version);
      return key;
    },
  };
}

export class VaultKeyVersionError extends AppError {
  constructor(version: number) {
    super("not_configured", `Vault is not configured: master key version ${version} is needed to decrypt but not configured`);
    this.name = "VaultKeyVersionError";
  }
}
