/**
 * Redaction (src/outbound/redact.ts): one test per row of its encoding tables, each against a
 * rendering made here independently, plus mixed forms, case, header dumps at every byte offset,
 * overlaps and the minimum length. Issue 9, findings 1 and 2.
 */
import { describe, expect, it } from "vitest";
import { CHARACTER_ENCODINGS, MIN_REDACT_LENGTH, REDACTED, redact, storedBody, VALUE_ENCODINGS } from "../src/outbound/redact";
import { echoForms, headerDump, leaksIn } from "./helpers/encodings";

/** Printable ASCII with every character some encoding escapes: quote, backslash, slash, <>&', space, +, =. */
const S = `sk-Test/9+x=Q"a\\b<c>&d'e f~Z`;
const bytes = (text: string) => new TextEncoder().encode(text);
const latin1 = (data: Uint8Array) => String.fromCharCode(...data);
const b64 = (text: string) => btoa(latin1(bytes(text)));
const each = (text: string, f: (code: number, c: string) => string) => [...text].map((c) => f(c.codePointAt(0)!, c)).join("");

/** `form` between ordinary text comes back as the same text around one [REDACTED]. */
function expectRedacted(form: string, secret = S) {
  expect(form).not.toBe(""); // a rendering that produced nothing would prove nothing
  expect(redact(`before ${form} after`, [secret])).toBe(`before ${REDACTED} after`);
}

/**
 * For a base64 stream with the secret somewhere inside: at most the few characters that also
 * carry neighbouring bytes survive around the redaction (3 before, 4 after with padding).
 */
function expectBase64Covered(encoded: string, prefix: string, secret = S, urlSafe = false) {
  const out = redact(encoded, [secret]);
  expect(out).toContain(REDACTED);
  const [head = "", tail = ""] = out.split(REDACTED);
  const toUrl = (t: string) => (urlSafe ? t.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "") : t);
  // What is left before the redaction is (at most) the encoding of the bytes before the secret.
  expect(head.length).toBeLessThanOrEqual(Math.ceil((prefix.length * 4) / 3));
  expect(toUrl(b64(prefix)).startsWith(head.slice(0, Math.floor((prefix.length * 4) / 3)))).toBe(true);
  expect(tail.length).toBeLessThanOrEqual(encoded.length - Math.floor(((prefix.length + bytes(secret).length) * 4) / 3) + 1);
}

/** One test per VALUE_ENCODINGS row. */
const valueRows: Record<string, () => void> = {
  "as is, any letter case": () => {
    expectRedacted(S);
    expectRedacted(S.toUpperCase());
    expectRedacted(S.toLowerCase());
    expectRedacted(each(S, (_, c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())));
  },
  "UTF-8 bytes read as Latin-1": () => {
    // A value stored before the ASCII rule, echoed back byte for byte and read as Latin-1.
    const legacy = "cnryU-é-0123456789";
    expectRedacted("cnryU-\u00c3\u00a9-0123456789", legacy);
    expectRedacted(legacy, legacy);
  },
  "UTF-16 (a NUL between characters)": () => {
    const le = latin1(new Uint8Array([...S].flatMap((c) => [c.charCodeAt(0), 0])));
    const be = latin1(new Uint8Array([...S].flatMap((c) => [0, c.charCodeAt(0)])));
    expect(redact(le, [S])).toBe(`${REDACTED}\0`);
    expect(redact(be, [S])).toBe(`\0${REDACTED}`);
  },
  "hex, any case": () => {
    const hex = [...bytes(S)].map((b) => b.toString(16).padStart(2, "0")).join("");
    expectRedacted(hex);
    expectRedacted(hex.toUpperCase());
    const dump = [...bytes(headerDump(S, 0))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(redact(dump, [S])).toContain(REDACTED);
    expect(redact(dump, [S])).not.toContain(hex.slice(0, 12));
  },
  "base64 at byte offsets 0, 1 and 2": () => {
    expectRedacted(b64(S));
    expectRedacted(b64(S).replace(/=+$/, ""));
    expect(b64(S)).toMatch(/[+/]/); // the secret exercises the characters base64url changes
    for (const prefix of ["", "a", "ab", "abc", "abcd", "authorization: Bearer "]) {
      for (const suffix of ["", "!", "!!", "\r\nhost: example\r\n"]) expectBase64Covered(b64(prefix + S + suffix), prefix);
    }
    for (let offset = 0; offset < 3; offset++) {
      const dump = b64(headerDump(S, offset));
      expect(leaksIn(redact(dump, [S]), S)).toEqual([]);
      expect(leaksIn(dump, S)).not.toEqual([]); // the search can fail
    }
  },
  "base64url at byte offsets 0, 1 and 2": () => {
    const url = (t: string) => b64(t).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    expectRedacted(url(S));
    for (const prefix of ["", "a", "ab", "authorization: Bearer "]) {
      for (const suffix of ["", "!", "!!"]) expectBase64Covered(url(prefix + S + suffix), prefix, S, true);
    }
  },
};

/** One test per CHARACTER_ENCODINGS row: every character in that form, then mixed with raw text. */
const characterRows: Record<string, () => void> = {
  "JSON short escape (\\\" \\\\ \\/ \\n ...)": () => {
    expectRedacted(JSON.stringify(S).slice(1, -1));
    expectRedacted(JSON.stringify(S).slice(1, -1).replace(/\//g, "\\/")); // PHP's json_encode
    expectRedacted(JSON.stringify("a\tb\nc\rd\be\ff/g").slice(1, -1), "a\tb\nc\rd\be\ff/g");
  },
  "JSON \\u escape": () => {
    expectRedacted(each(S, (code) => `\\u${code.toString(16).padStart(4, "0")}`));
    expectRedacted(each(S, (code) => `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`));
    // Go's encoding/json escapes only <, > and &.
    expectRedacted(JSON.stringify(S).slice(1, -1).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026"));
  },
  "percent-encoding (%XX)": () => {
    expectRedacted(encodeURIComponent(S));
    expectRedacted(encodeURIComponent(S).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
    expectRedacted(each(S, (code) => `%${code.toString(16).padStart(2, "0")}`));
    expectRedacted(encodeURI(S)); // leaves / + = & alone
    expectRedacted(encodeURIComponent(S.toUpperCase()));
  },
  "form encoding (+ for space)": () => {
    const form = new URLSearchParams({ v: S }).toString().slice(2);
    expect(form).toContain("+");
    expectRedacted(form);
  },
  "HTML decimal entity": () => {
    expectRedacted(each(S, (code) => `&#${code};`));
  },
  "HTML hex entity": () => {
    expectRedacted(each(S, (code) => `&#x${code.toString(16)};`));
    expectRedacted(each(S, (code) => `&#X${code.toString(16).toUpperCase()};`));
  },
  "HTML named entity": () => {
    const named: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
    expectRedacted(S.replace(/[&<>"']/g, (c) => named[c]!));
    expectRedacted(S.replace(/'/g, "&apos;"));
  },
};

describe("redaction, one test per encoding", () => {
  it("has a test for every row of both tables", () => {
    expect(Object.keys(valueRows).sort()).toEqual(Object.keys(VALUE_ENCODINGS).sort());
    expect(Object.keys(characterRows).sort()).toEqual(Object.keys(CHARACTER_ENCODINGS).sort());
  });

  describe("whole-value encodings", () => {
    it.each(Object.keys(valueRows))("%s", (name) => valueRows[name]!());
  });

  describe("character encodings", () => {
    it.each(Object.keys(characterRows))("%s", (name) => characterRows[name]!());
  });

  it.each(Object.entries(echoForms(S)))("redacts the echo form %s", (_, form) => {
    const out = redact(`{"echo":"${form}"}`, [S]);
    expect(out).toContain(REDACTED);
    expect(leaksIn(out, S)).toEqual([]);
  });
});

describe("redaction rules", () => {
  it("redacts header names as any other text", () => {
    expect(redact(`x-${S.toLowerCase()}`, [S])).toBe(`x-${REDACTED}`);
  });

  it("mixes forms within one echo and across secrets", () => {
    const mixed = `sk-TEST%2F9+x\\u003dQ"a\\b&lt;c>&d'e f~z`;
    expectRedacted(mixed);
    // Overlapping secrets leave no fragment of either.
    expect(redact("sk-long-secret-value", ["sk-long", "sk-long-secret-value"])).toBe(REDACTED);
    expect(redact("xxsk-long-secret-value", ["xxsk-long-se", "sk-long-secret-value"])).toBe(REDACTED);
    expect(redact("a sk-one-111 b sk-two-222 c", ["sk-one-111", "sk-two-222"])).toBe(`a ${REDACTED} b ${REDACTED} c`);
  });

  it(`leaves values shorter than ${MIN_REDACT_LENGTH} characters alone, and redacts from ${MIN_REDACT_LENGTH} on`, () => {
    expect(redact("abcde and ABCDE", ["abcde"])).toBe("abcde and ABCDE");
    expect(redact("abcdef and ABCDEF", ["abcdef"])).toBe(`${REDACTED} and ${REDACTED}`);
    expect(redact("nothing to see", [])).toBe("nothing to see");
  });

  it("does not redact what only looks like an escape of something else", () => {
    expect(redact("sk-Test%2G9", ["sk-Test/9"])).toBe("sk-Test%2G9");
    expect(redact("sk-Test&#48;9", ["sk-Test/9"])).toBe("sk-Test&#48;9");
    expect(redact("c2stVGVzdC85", ["SK-TEST/9"])).toBe("c2stVGVzdC85"); // base64 of another case is other bytes
  });

  it("finds a secret whose own characters start escapes (%, &, backslash)", () => {
    for (const secret of ["%25%41&amp;\\u0041", "100%-sure&#", "a\\\\b\\u00"]) {
      expectRedacted(secret, secret);
      expectRedacted(encodeURIComponent(secret), secret);
      expectRedacted(JSON.stringify(secret).slice(1, -1), secret);
    }
  });

  it("withholds the whole text rather than searching without end", () => {
    // A secret repeating itself against text made of it: more steps than the budget allows.
    expect(redact("%".repeat(100_000), ["%".repeat(40) + "x"])).toBe(REDACTED);
  });

  it("redacts before the stored cut, so no prefix of a secret survives it", () => {
    // Cut first, this text would keep "sk-Test/9+x="; redacted first, it fits.
    const text = "x".repeat(64 * 1024 - 12) + S;
    const { body, truncated } = storedBody(text, false, (t) => redact(t, [S]));
    expect(truncated).toBe(false);
    expect(body).toBe("x".repeat(64 * 1024 - 12) + REDACTED);
    const { body: cut, truncated: wasCut } = storedBody(`${text}${"y".repeat(100)}`, false, (t) => redact(t, [S]));
    expect(wasCut).toBe(true);
    expect(cut).not.toContain(S.slice(0, 3));
  });
});
