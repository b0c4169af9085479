import { bytesToBase64, bytesToHex, utf8 } from "../encoding";

/**
 * Redaction of resolved secrets from whatever a target answers (headers, header names, bodies,
 * error messages) before anything is stored, queued or sent on.
 *
 * An echo is found in two layers, both driven by the tables below:
 *  1. VALUE_ENCODINGS render the whole secret (as is, hex, base64 at each byte alignment...);
 *  2. CHARACTER_ENCODINGS render each character of such a rendering (JSON and HTML escapes,
 *     percent and form encoding). Targets mix these freely within one string (Go's JSON escapes
 *     only `<>&`, encodeURI leaves `/` alone, PHP writes `\/`), so each character of a
 *     rendering matches any of its forms independently.
 * Letter case is ignored where it carries no meaning (the text itself, hex, escapes), never
 * in base64. Overlapping matches of several secrets are merged, so no fragment survives.
 */
export const REDACTED = "[REDACTED]";

/**
 * Values shorter than this (in characters) are not redacted: they would match ordinary text
 * (a 5-character value is also far too weak to be worth hiding). Real credentials are 20+.
 */
export const MIN_REDACT_LENGTH = 6;

/** Bytes of a response body kept in a stored result. */
export const RESULT_BODY_LIMIT = 64 * 1024;

/** One rendering of a whole secret, and whether letter case in it carries meaning. */
export interface Rendering {
  text: string;
  anyCase: boolean;
}

/** Whole-value renderings: name -> the forms in which a target may echo the secret. */
export const VALUE_ENCODINGS: Readonly<Record<string, (secret: string) => Rendering[]>> = {
  "as is, any letter case": (s) => [{ text: s, anyCase: true }],
  // Only differs from the text for non-ASCII values (refused at creation since; kept for old rows).
  "UTF-8 bytes read as Latin-1": (s) => [{ text: latin1(utf8.encode(s)), anyCase: true }],
  "UTF-16 (a NUL between characters)": (s) => [{ text: [...s].join("\0"), anyCase: true }],
  "hex, any case": (s) => [{ text: bytesToHex(utf8.encode(s)), anyCase: true }],
  "base64 at byte offsets 0, 1 and 2": (s) => base64Renderings(utf8.encode(s), false),
  "base64url at byte offsets 0, 1 and 2": (s) => base64Renderings(utf8.encode(s), true),
};

/** Per-character renderings: name -> the escaped forms of one character (matched in any case). */
export const CHARACTER_ENCODINGS: Readonly<Record<string, (c: string) => string[]>> = {
  "JSON short escape (\\\" \\\\ \\/ \\n ...)": (c) => (JSON_SHORT[c] ? [JSON_SHORT[c]] : []),
  "JSON \\u escape": (c) => [...utf16Units(c)].map((unit) => `\\u${hex(unit, 4)}`),
  "percent-encoding (%XX)": (c) => [[...utf8.encode(c)].map((b) => `%${hex(b, 2)}`).join("")],
  "form encoding (+ for space)": (c) => (c === " " ? ["+"] : []),
  "HTML decimal entity": (c) => [`&#${c.codePointAt(0)};`],
  "HTML hex entity": (c) => [`&#x${hex(c.codePointAt(0) ?? 0, 1)};`],
  "HTML named entity": (c) => (HTML_NAMED[c] ? [HTML_NAMED[c]] : []),
};

const JSON_SHORT: Record<string, string> = { '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
const HTML_NAMED: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Replaces every rendering of every secret (of at least MIN_REDACT_LENGTH characters) in `text`. */
export function redact(text: string, secrets: Iterable<string>): string {
  const { patterns, byFirstUnits, starts } = redactorFor(secrets);
  if (patterns.length === 0 || text.length === 0) return text;
  const spans: [number, number][] = [];
  // Where each pattern may match again: a match is not searched again from inside itself.
  const resume = new Array<number>(patterns.length).fill(0);
  starts.lastIndex = 0;
  budget = STEPS_PER_UNIT * text.length + MIN_STEPS;
  for (let found = starts.exec(text); found; found = starts.exec(text)) {
    const at = found.index;
    const candidates = byFirstUnits.get(text.charCodeAt(at) * 0x10000 + text.charCodeAt(at + 1));
    if (!candidates) continue;
    for (const index of candidates) {
      if (at < resume[index]!) continue;
      const end = matchAt(text, at, patterns[index]!);
      if (budget < 0) return REDACTED; // fail closed
      if (end < 0) continue;
      spans.push([at, end]);
      resume[index] = end;
    }
  }
  if (spans.length === 0) return text;
  spans.sort((a, b) => a[0] - b[0]);
  // Overlapping matches (two secrets sharing text, two renderings of one) become one redaction.
  const merged: [number, number][] = [];
  for (const [start, end] of spans) {
    const last = merged[merged.length - 1];
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  let out = "";
  let at = 0;
  for (const [start, end] of merged) {
    out += text.slice(at, start) + REDACTED;
    at = end;
  }
  return out + text.slice(at);
}

/**
 * What is stored of a body: redacted first (over everything read), then cut to the stored
 * limit, so a secret straddling the cut cannot leave a prefix behind.
 */
export function storedBody(text: string, readTruncated: boolean, redactText: (t: string) => string): { body: string; truncated: boolean } {
  const redacted = redactText(text);
  const bytes = new TextEncoder().encode(redacted);
  if (bytes.byteLength <= RESULT_BODY_LIMIT) return { body: redacted, truncated: readTruncated };
  // Cut on a character boundary.
  return { body: new TextDecoder().decode(bytes.subarray(0, RESULT_BODY_LIMIT)).replace(/\uFFFD$/, ""), truncated: true };
}

/** One way of writing a character: for each UTF-16 unit of the form, the two codes accepted. */
interface Form {
  lo: Uint16Array;
  hi: Uint16Array;
}

/** A rendering to look for: for each of its characters, every form that character may take. */
type Pattern = Form[][];

interface Redactor {
  patterns: Pattern[];
  /** Patterns by the first two code units a match of theirs can start with. */
  byFirstUnits: Map<number, number[]>;
  /** Finds the next position where some pattern may start (a native scan, much faster than a loop). */
  starts: RegExp;
}

/**
 * Compiled redactors, kept only as long as the caller's array of secrets (a task step redacts
 * many strings with the same secrets; nothing outlives the step).
 */
const compiled = new WeakMap<object, { secrets: string[]; redactor: Redactor }>();

function redactorFor(secrets: Iterable<string>): Redactor {
  const list = [...secrets];
  const cacheable = typeof secrets === "object";
  const cached = cacheable ? compiled.get(secrets) : undefined;
  if (cached && cached.secrets.length === list.length && cached.secrets.every((s, i) => s === list[i])) return cached.redactor;
  const redactor = compile(list.filter((s) => s.length >= MIN_REDACT_LENGTH));
  if (cacheable) compiled.set(secrets, { secrets: list, redactor });
  return redactor;
}

/**
 * The forms of a character depend on the character alone, so they are built once per isolate
 * and shared by every compile (building them was a quarter of the consumer's CPU per task).
 * Only single characters are keys, never a secret; the cap bounds what exotic text can add.
 */
const FORMS_CACHE_LIMIT = 2048;
const formsOf = new Map<string, Form[]>();
/** The same for one-unit characters, by code unit (the common case, without building a key). */
const unitForms: [(Form[] | undefined)[], (Form[] | undefined)[]] = [[], []];

function charForms(c: string, anyCase: boolean): Form[] {
  if (c.length === 1) {
    const table = unitForms[anyCase ? 1 : 0];
    const unit = c.charCodeAt(0);
    return (table[unit] ??= characterForms(c, anyCase));
  }
  const key = `${anyCase ? "i" : "s"}${c}`;
  let forms = formsOf.get(key);
  if (!forms) {
    forms = characterForms(c, anyCase);
    if (formsOf.size < FORMS_CACHE_LIMIT) formsOf.set(key, forms);
  }
  return forms;
}

/** A rendering's characters (surrogate pairs kept whole), each with its forms. */
function patternOf(text: string, anyCase: boolean): Pattern {
  const pattern: Pattern = [];
  for (let k = 0; k < text.length; k++) {
    const unit = text.charCodeAt(k);
    const next = text.charCodeAt(k + 1);
    const wide = unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    pattern.push(charForms(wide ? text.slice(k, k + 2) : text[k]!, anyCase));
    if (wide) k++;
  }
  return pattern;
}

function compile(secrets: string[]): Redactor {
  const seen = new Set<string>();
  const patterns: Pattern[] = [];
  const byFirstUnits = new Map<number, number[]>();
  for (const secret of secrets) {
    for (const encode of Object.values(VALUE_ENCODINGS)) {
      for (const { text, anyCase } of encode(secret)) {
        const key = `${anyCase ? "i" : "s"}${text}`;
        if (text.length < MIN_REDACT_LENGTH || seen.has(key)) continue;
        seen.add(key);
        const pattern = patternOf(text, anyCase);
        const index = patterns.push(pattern) - 1;
        addFirstPairs(pattern, index, byFirstUnits);
      }
    }
  }
  const units = [...new Set([...byFirstUnits.keys()].map((pair) => pair >>> 16))].map((unit) => `\\u${hex(unit, 4)}`).join("");
  return { patterns, byFirstUnits, starts: new RegExp(`[${units}]`, "g") };
}

/**
 * Files `index` under every pair of code units (first * 0x10000 + second) a match of `pattern`
 * can begin with. Loops, not sets of arrays: a secret's renderings give thousands of pairs, and
 * this runs once per attempt.
 */
function addFirstPairs(pattern: Pattern, index: number, byFirstUnits: Map<number, number[]>): void {
  const add = (pair: number) => {
    let list = byFirstUnits.get(pair);
    if (!list) byFirstUnits.set(pair, (list = []));
    if (list[list.length - 1] !== index) list.push(index);
  };
  const next = pattern[1] ?? [];
  for (const f of pattern[0]!) {
    for (const first of [f.lo[0]!, f.hi[0]!]) {
      if (f.lo.length > 1) {
        add(first * 0x10000 + f.lo[1]!);
        add(first * 0x10000 + f.hi[1]!);
        continue;
      }
      for (const g of next) {
        add(first * 0x10000 + g.lo[0]!);
        add(first * 0x10000 + g.hi[0]!);
      }
    }
  }
}

/** Every form of one character: itself (in either case where case is free) or any escape of it (in any case). */
function characterForms(c: string, anyCase: boolean): Form[] {
  const variants = anyCase ? caseVariants(c) : [c];
  const forms: Form[] = [variants.length > 1 ? form(c, variants) : form(c)];
  const seen = new Set<string>([c]);
  for (const variant of variants) {
    for (const encode of Object.values(CHARACTER_ENCODINGS)) {
      for (const escaped of encode(variant)) {
        if (seen.has(escaped)) continue;
        seen.add(escaped);
        forms.push(form(escaped, undefined, true));
      }
    }
  }
  // Longest first: where a character and the start of its escape both match, try the escape.
  return forms.sort((a, b) => b.lo.length - a.lo.length);
}

/** The character and its upper and lower case forms of the same length (`ß` -> `SS` is ignored). */
function caseVariants(c: string): string[] {
  return [...new Set([c, c.toLowerCase(), c.toUpperCase()])].filter((v) => v.length === c.length);
}

/** A form accepting `text` exactly, or any of `variants` (same length), or any letter case. */
function form(text: string, variants: string[] = [text], anyCase = false): Form {
  const lo = new Uint16Array(text.length);
  const hi = new Uint16Array(text.length);
  for (let k = 0; k < text.length; k++) {
    const unit = text[k]!;
    const [a, b = a] = anyCase ? caseVariants(unit) : variants.map((v) => v[k]!);
    lo[k] = a!.charCodeAt(0);
    hi[k] = b!.charCodeAt(0);
  }
  return { lo, hi };
}

function formAt(text: string, at: number, f: Form): boolean {
  if (at + f.lo.length > text.length) return false;
  for (let k = 0; k < f.lo.length; k++) {
    const unit = text.charCodeAt(at + k);
    if (unit !== f.lo[k] && unit !== f.hi[k]) return false;
  }
  return true;
}

/**
 * Search steps allowed per redaction (counted down by matchAt; redaction is synchronous, so one
 * counter serves every call). Typical text needs one or two per code unit; only a secret that
 * repeats itself against text made of it needs more, and then the whole text is withheld.
 */
const STEPS_PER_UNIT = 16;
const MIN_STEPS = 1_000_000;
let budget = 0;

/**
 * Where a match of `pattern` starting at `start` ends, or -1. Depth-first over the forms of
 * each character, without recursion (patterns can be 128 K characters long). Only a step where
 * two forms match (`%` is also the start of `%25`) leaves a way back, and a state (character,
 * position) that failed once is not explored again, so such ambiguities cannot multiply.
 */
function matchAt(text: string, start: number, pattern: Pattern): number {
  let stack: number[] | undefined;
  let failed: Set<number> | undefined;
  const stride = text.length + 1;
  let i = 0;
  let at = start;
  let next = 0;
  for (;;) {
    if (i === pattern.length) return at;
    if (--budget < 0) return -1;
    const forms = pattern[i]!;
    let chosen = -1;
    if (!failed?.has(i * stride + at)) {
      for (let f = next; f < forms.length; f++) {
        if (!formAt(text, at, forms[f]!)) continue;
        if (chosen >= 0) {
          (stack ??= []).push(i, at, f);
          break;
        }
        chosen = f;
      }
    }
    if (chosen >= 0) {
      at += forms[chosen]!.lo.length;
      i++;
      next = 0;
      continue;
    }
    if (!stack || stack.length === 0) return -1;
    (failed ??= new Set()).add(i * stride + at);
    next = stack.pop()!;
    at = stack.pop()!;
    i = stack.pop()!;
  }
}

function* utf16Units(c: string): Iterable<number> {
  for (let i = 0; i < c.length; i++) yield c.charCodeAt(i);
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * The base64 text that encodes the secret wherever it sits in a longer byte stream (a dump of
 * all request headers, say). At byte offset 1 the first two characters also carry the bytes
 * before it, at offset 2 the first three; the last character carries the byte after it unless
 * the secret ends on a 3-byte boundary. What is left is fixed by the secret alone. At offset 0
 * the standalone encodings (with their last partial character, padded or not) come too.
 */
function base64Renderings(bytes: Uint8Array, urlSafe: boolean): Rendering[] {
  const alphabet = (b64: string) => (urlSafe ? b64.replace(/\+/g, "-").replace(/\//g, "_") : b64);
  const out: Rendering[] = [];
  for (const offset of [0, 1, 2]) {
    const shifted = new Uint8Array(offset + bytes.length);
    shifted.set(bytes, offset);
    const full = alphabet(bytesToBase64(shifted));
    const unpadded = full.replace(/=+$/, "");
    if (offset === 0) out.push({ text: full, anyCase: false }, { text: unpadded, anyCase: false });
    out.push({ text: unpadded.slice([0, 2, 3][offset], Math.floor((8 * shifted.length) / 6)), anyCase: false });
  }
  return out;
}
