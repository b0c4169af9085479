import { describe, expect, it } from "vitest";
import { bytesToHex, hexToBytes } from "../src/encoding";

/** Known-answer tests: the WebCrypto primitives the vault builds on behave as specified. */
const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return bytesToHex(new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, length * 8)));
}

describe("HKDF-SHA256 (RFC 5869 appendix A)", () => {
  it("test case 1: basic", async () => {
    expect(await hkdf(new Uint8Array(22).fill(0x0b), range(0x00, 0x0c), range(0xf0, 0xf9), 42)).toBe(
      "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    );
  });
  it("test case 2: longer inputs and outputs", async () => {
    expect(await hkdf(range(0x00, 0x4f), range(0x60, 0xaf), range(0xb0, 0xff), 82)).toBe(
      "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c" +
        "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71" +
        "cc30c58179ec3e87c14c01d5c1f3434f1d87",
    );
  });
  it("test case 3: zero-length salt and info", async () => {
    expect(await hkdf(new Uint8Array(22).fill(0x0b), new Uint8Array(0), new Uint8Array(0), 42)).toBe(
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    );
  });
});

describe("AES-256-GCM (GCM specification, test case 16: 256-bit key, 60-byte plaintext, AAD)", () => {
  const key = hexToBytes("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const iv = hexToBytes("cafebabefacedbaddecaf888");
  const aad = hexToBytes("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const plaintext = hexToBytes(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
  );
  const expected =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" +
    "76fc6ece0f4e1768cddf8853bb2d551b";

  it("encrypts to the published ciphertext and tag", async () => {
    const k = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
    const out = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, k, plaintext);
    expect(bytesToHex(new Uint8Array(out))).toBe(expected);
  });

  it("decrypts it back, and refuses it under other AAD", async () => {
    const k = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
    const back = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, k, hexToBytes(expected));
    expect(bytesToHex(new Uint8Array(back))).toBe(bytesToHex(plaintext));
    await expect(crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: new Uint8Array(20) }, k, hexToBytes(expected))).rejects.toThrow();
  });
});
