/**
 * Lowercase ULID-style ids: 48-bit millisecond time + 80 random bits in Crockford base32,
 * so ids sort by creation time (as in seed 000: `tok_01jrx7m2k...`). Within one millisecond
 * the random part is incremented, keeping ids from one isolate strictly increasing.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

function encodeTime(time: number): string {
  let out = "";
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  // 80 bits -> 16 base32 characters.
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = new Uint8Array(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] === 0xff) {
      next[i] = 0;
    } else {
      next[i] = (next[i] ?? 0) + 1;
      return next;
    }
  }
  return crypto.getRandomValues(new Uint8Array(10));
}

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
    now = lastTime;
  } else {
    lastTime = now;
    lastRandom = crypto.getRandomValues(new Uint8Array(10));
  }
  return encodeTime(now) + encodeRandom(lastRandom);
}

export const ID_BODY = "[0-9a-hjkmnp-tv-z]{26}";

/** The creation time (ms) encoded in an id body's first 10 characters; NaN if they are not base32. */
export function idTime(body: string): number {
  let time = 0;
  for (const char of body.slice(0, 10)) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return NaN;
    time = time * 32 + digit;
  }
  return time;
}

/** Each id prefix with what it names (for messages such as "must be a token id (tok_...)"). */
export const ID_KINDS = {
  team: "a team",
  key: "an API key",
  tok: "a token",
  task: "a task",
  usr: "a user",
  inv: "an invitation",
  lease: "a lease",
  prop: "a proposal",
} as const;
export type IdPrefix = keyof typeof ID_KINDS;

export const newId = {
  team: () => `team_${ulid()}`,
  apiKey: () => `key_${ulid()}`,
  token: () => `tok_${ulid()}`,
  task: () => `task_${ulid()}`,
  user: () => `usr_${ulid()}`,
  invitation: () => `inv_${ulid()}`,
  lease: () => `lease_${ulid()}`,
  proposal: () => `prop_${ulid()}`,
  audit: () => `aud_${ulid()}`,
  request: () => `req_${ulid()}`,
};

/**
 * The smallest id of a kind created at `time` (ms) or later: ids sort by creation time, so a
 * time range is an id range (and uses the indexes that end in id).
 */
export function idTimeBound(prefix: string, time: number): string {
  return `${prefix}_${encodeTime(Math.max(0, Math.floor(time)))}`;
}
