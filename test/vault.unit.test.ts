import { describe, expect, it } from "vitest";
import { base64ToBytes, bytesToBase64 } from "../src/encoding";
import { openSecret, sealSecret, teamKey, VaultDecryptError, type SealedSecret } from "../src/vault/cipher";
import { getKeyring, parseKeyringConfig, parseMasterKey, VaultConfigError } from "../src/vault/keyring";
import { CANARY, TEST_MASTER_KEY_V1, TEST_MASTER_KEY_V2 } from "./helpers/constants";

const teamA = { teamId: "team_a", salt: bytesToBase64(new Uint8Array(32).fill(1)) };
const teamB = { teamId: "team_b", salt: bytesToBase64(new Uint8Array(32).fill(2)) };
const v1 = () => getKeyring({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 });

function flipBit(b64: string, index = 0): string {
  const bytes = base64ToBytes(b64);
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytesToBase64(bytes);
}

describe("master key configuration", () => {
  it("accepts 32 bytes as hex or base64", () => {
    expect(parseMasterKey(TEST_MASTER_KEY_V1, "k")).toHaveLength(32);
    expect(parseMasterKey(TEST_MASTER_KEY_V2, "k")).toHaveLength(32);
  });

  it.each([
    ["too short hex", "abcd1234"],
    ["16 bytes", "00112233445566778899aabbccddeeff"],
    ["a passphrase", "correct horse battery staple"],
    ["all zeros", "0".repeat(64)],
    ["empty", ""],
  ])("refuses a weak key (%s) with an operator error", (_label, key) => {
    expect(() => parseMasterKey(key, "VAULT_MASTER_KEY")).toThrow(VaultConfigError);
  });

  it("reads a versioned list; the highest version is active", async () => {
    const keys = parseKeyringConfig({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
    expect([...keys.keys()]).toEqual([1, 2]);
    const keyring = await getKeyring({ VAULT_MASTER_KEYS: `2:${TEST_MASTER_KEY_V2}, 1:${TEST_MASTER_KEY_V1}` });
    expect(keyring.activeVersion).toBe(2);
    expect(keyring.versions).toEqual([1, 2]);
  });

  it("refuses a missing configuration, duplicate versions and malformed entries", () => {
    expect(() => parseKeyringConfig({})).toThrow(VaultConfigError);
    expect(() => parseKeyringConfig({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},1:${TEST_MASTER_KEY_V2}` })).toThrow(/twice/);
    expect(() => parseKeyringConfig({ VAULT_MASTER_KEYS: TEST_MASTER_KEY_V1 })).toThrow(/<version>:<key>/);
  });

  it("never names the key material in its errors", () => {
    try {
      parseMasterKey(CANARY, "VAULT_MASTER_KEY");
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(CANARY);
    }
  });
});

describe("sealing secrets", () => {
  it("round-trips and uses a fresh IV each time", async () => {
    const keyring = await v1();
    const a = await sealSecret(keyring, teamA, "tok_1", CANARY);
    const b = await sealSecret(keyring, teamA, "tok_1", CANARY);
    expect(a.iv).not.toBe(b.iv);
    expect(base64ToBytes(a.iv)).toHaveLength(12);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.ciphertext).not.toContain(CANARY);
    expect(await openSecret(keyring, teamA, "tok_1", a)).toBe(CANARY);
    expect(await openSecret(keyring, teamA, "tok_1", b)).toBe(CANARY);
  });

  it("derives non-extractable per-team keys, cached per isolate", async () => {
    const keyring = await v1();
    const key = await teamKey(keyring, teamA, 1);
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: "AES-GCM", length: 256 });
    await expect(crypto.subtle.exportKey("raw", key)).rejects.toThrow();
    expect(await teamKey(keyring, teamA, 1)).toBe(key);
    expect(await teamKey(keyring, teamB, 1)).not.toBe(key);
  });

  describe("fails closed", () => {
    let sealed: SealedSecret;
    const open = async (team: typeof teamA, tokenId: string, s: SealedSecret) => openSecret(await v1(), team, tokenId, s);

    it("on a flipped ciphertext bit", async () => {
      sealed = await sealSecret(await v1(), teamA, "tok_1", CANARY);
      await expect(open(teamA, "tok_1", { ...sealed, ciphertext: flipBit(sealed.ciphertext, 3) })).rejects.toThrow(VaultDecryptError);
    });
    it("on a flipped tag bit", async () => {
      const last = base64ToBytes(sealed.ciphertext).length - 1;
      await expect(open(teamA, "tok_1", { ...sealed, ciphertext: flipBit(sealed.ciphertext, last) })).rejects.toThrow(VaultDecryptError);
    });
    it("on a flipped IV bit", async () => {
      await expect(open(teamA, "tok_1", { ...sealed, iv: flipBit(sealed.iv) })).rejects.toThrow(VaultDecryptError);
    });
    it("when moved to another token id (swapped AAD)", async () => {
      await expect(open(teamA, "tok_2", sealed)).rejects.toThrow(VaultDecryptError);
    });
    it("under another team's key", async () => {
      await expect(open(teamB, "tok_1", sealed)).rejects.toThrow(VaultDecryptError);
    });
    it("with the same team id but another salt", async () => {
      await expect(open({ ...teamA, salt: teamB.salt }, "tok_1", sealed)).rejects.toThrow(VaultDecryptError);
    });
    it("when relabelled with another key version", async () => {
      const both = await getKeyring({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
      await expect(openSecret(both, teamA, "tok_1", { ...sealed, keyVersion: 2 })).rejects.toThrow(VaultDecryptError);
      expect(await openSecret(both, teamA, "tok_1", sealed)).toBe(CANARY);
    });
    it("under another master key", async () => {
      const other = await getKeyring({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V2 });
      await expect(openSecret(other, teamA, "tok_1", sealed)).rejects.toThrow(VaultDecryptError);
    });
    it("without naming the secret in the error", async () => {
      const error = (await open(teamB, "tok_1", sealed).catch((e: unknown) => e)) as Error;
      expect(error.message).not.toContain(CANARY);
    });
  });
});
