const ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

function randomFrom(alphabet: string, length: number): string {
  let out = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(length))) out += alphabet[byte % alphabet.length];
  return out;
}

/** An id body (26 characters) whose time part says `time`, as ids.ts makes them. */
export function idBodyAt(time: number): string {
  let out = "";
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ID_ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out + randomFrom(ID_ALPHABET, 16);
}

/** 49 random base62 characters: the shape of a key's secret part, with no valid checksum. */
export const randomKeyTail = () => randomFrom(BASE62, 49);
