/**
 * The forms in which a target may echo a secret (issue 9, finding 2), written here without the
 * code under test so the tests check redaction against an independent rendering. Plain JS
 * (btoa, TextEncoder): used by the fake upstream (Node), the e2e leak test and the workers pool.
 */
const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (text: string) => [...bytes(text)].map((b) => b.toString(16).padStart(2, "0")).join("");
const latin1 = (data: Uint8Array) => String.fromCharCode(...data);
const b64 = (text: string) => btoa(latin1(bytes(text)));
const b64url = (text: string) => b64(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const each = (text: string, f: (code: number, c: string) => string) => [...text].map((c) => f(c.codePointAt(0)!, c)).join("");
/** Lower-cases every %XX escape, as some encoders write them. */
const lowerPercent = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
const swapCase = (text: string) => each(text, (_, c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()));

/** A dump of request headers with the secret at a chosen byte offset (mod 3) in the stream. */
export const headerDump = (secret: string, offset: number) => `${"#".repeat(offset)}GET / HTTP/1.1\r\nauthorization: Bearer ${secret}\r\nhost: example\r\n\r\n`;

/** name -> the secret as a target may echo it, each embedded as the target would send it. */
export function echoForms(secret: string): Record<string, string> {
  return {
    raw: secret,
    "upper case": secret.toUpperCase(),
    "lower case": secret.toLowerCase(),
    "swapped case": swapCase(secret),
    "hex lower": hex(secret),
    "hex upper": hex(secret).toUpperCase(),
    "hex dump of the request headers": hex(headerDump(secret, 0)),
    "base64 alone": b64(secret),
    "base64 dump, offset 0": b64(headerDump(secret, 0)),
    "base64 dump, offset 1": b64(headerDump(secret, 1)),
    "base64 dump, offset 2": b64(headerDump(secret, 2)),
    "base64url dump, offset 0": b64url(headerDump(secret, 0)),
    "base64url dump, offset 1": b64url(headerDump(secret, 1)),
    "base64url dump, offset 2": b64url(headerDump(secret, 2)),
    "percent upper (encodeURIComponent)": encodeURIComponent(secret),
    "percent lower": lowerPercent(encodeURIComponent(secret)),
    "percent, every byte": each(secret, (_, c) => [...bytes(c)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")),
    "form encoding": new URLSearchParams({ v: secret }).toString().slice(2),
    "JSON string": JSON.stringify(secret).slice(1, -1),
    "JSON with escaped slashes": JSON.stringify(secret).slice(1, -1).replace(/\//g, "\\/"),
    "JSON \\u, every character": each(secret, (code) => `\\u${code.toString(16).padStart(4, "0")}`),
    "JSON \\U upper hex, every character": each(secret, (code) => `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`),
    "HTML decimal entities": each(secret, (code) => `&#${code};`),
    "HTML hex entities": each(secret, (code) => `&#x${code.toString(16)};`),
    "HTML hex entities, upper": each(secret, (code) => `&#X${code.toString(16).toUpperCase()};`),
    "upper case, percent-encoded": encodeURIComponent(secret.toUpperCase()),
  };
}

/**
 * What must never be found where data is kept: each form of the secret, lower-cased (search a
 * lower-cased haystack). For the base64 dumps, the part fixed by the secret alone (4 characters
 * trimmed at each end; case matters there, so those are kept as they are, in `exact`).
 */
export function leakNeedles(secret: string): { folded: string[]; exact: string[] } {
  const forms = echoForms(secret);
  const folded = new Set<string>();
  const exact = new Set<string>();
  for (const [name, form] of Object.entries(forms)) {
    if (name.startsWith("base64") || name.startsWith("hex dump")) continue;
    folded.add(form.toLowerCase());
  }
  for (let offset = 0; offset < 3; offset++) {
    const shifted = b64("#".repeat(offset) + secret);
    exact.add(shifted.slice(4, -4));
    exact.add(shifted.slice(4, -4).replace(/\+/g, "-").replace(/\//g, "_"));
  }
  folded.add(hex(secret));
  return { folded: [...folded], exact: [...exact] };
}

/** The needles found in `haystack` (empty when it holds no form of the secret). */
export function leaksIn(haystack: string, secret: string): string[] {
  const { folded, exact } = leakNeedles(secret);
  const lower = haystack.toLowerCase();
  return [...folded.filter((n) => lower.includes(n)), ...exact.filter((n) => haystack.includes(n))];
}
