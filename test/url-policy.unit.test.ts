/**
 * Host-name normalisation in the one outbound URL policy (issue 9, finding 7): trailing dots,
 * percent-encoded dots, empty labels and IDNA spellings of refused hosts. The general SSRF
 * cases live in tasks.unit.test.ts.
 */
import { describe, expect, it } from "vitest";
import { checkOutboundUrl, normalizeHost } from "../src/outbound/url-policy";

describe("host names are normalised before the policy looks at them", () => {
  // Every one of these was accepted at creation before (a trailing dot was stripped only once).
  const bypasses = [
    "http://localhost../",
    "http://localhost.../",
    "http://LOCALHOST../",
    "http://127.0.0.1../",
    "http://127.0.0.1.../",
    "http://localhost%2e%2e/",
    "http://localhost%2E%2E/",
    "http://127.0.0.1%2e%2e/",
    "http://0x7f.1../",
    "http://app.localhost../",
    "http://metadata.google.internal../",
    "http://169.254.169.254../latest/meta-data/",
  ];
  it.each(bypasses)("refuses %s", (url) => {
    const verdict = checkOutboundUrl(url, false);
    expect(verdict.ok).toBe(false);
  });

  it("names the empty label as the reason, with private targets allowed too", () => {
    for (const url of ["http://localhost../", "http://localhost%2e%2e/", "http://a..example.com/", "http://.example.com/", "http://example.com../", "http://./", "http://.../"]) {
      expect(checkOutboundUrl(url, false), url).toEqual({ ok: false, reason: "must not have an empty label in its host name" });
      // Malformed names are refused in local development as well: they are never a real target.
      expect(checkOutboundUrl(url, true), url).toEqual({ ok: false, reason: "must not have an empty label in its host name" });
    }
  });

  const refused = [
    "http://localhost./", // one trailing dot: the same host
    "http://localhost%2e/",
    "http://127.0.0.1./",
    "http://lo%63alhost/", // percent-encoded letter
    "http://ｌｏｃａｌｈｏｓｔ/", // full-width letters, mapped by IDNA
    "http://local\u00adhost/", // soft hyphen, removed by IDNA
    "http://ＬＯＣＡＬＨＯＳＴ./",
    "http://xn--localhost-/", // punycode of nothing: still a single-label name
    "http://service.internal./",
    "http://printer.local./",
    "http://[::1]/",
  ];
  it.each(refused)("refuses %s", (url) => {
    expect(checkOutboundUrl(url, false).ok).toBe(false);
  });

  const allowed = ["https://example.com./", "https://Example.COM/", "https://exa%6dple.com/", "https://bücher.example/", "http://93.184.216.34./"];
  it.each(allowed)("still allows %s", (url) => {
    expect(checkOutboundUrl(url, false).ok).toBe(true);
  });

  it("normalises a host name to one form, or to nothing when a label is empty", () => {
    expect(normalizeHost("Example.COM.")).toBe("example.com");
    expect(normalizeHost("example.com")).toBe("example.com");
    expect(normalizeHost("[::1]")).toBe("[::1]");
    for (const host of ["localhost..", "a..b", ".a", ".", "..", "a.b.."]) expect(normalizeHost(host), host).toBeUndefined();
  });
});
