/**
 * Host-name normalisation in the one outbound URL policy (issue 9, finding 7): trailing dots,
 * percent-encoded dots, empty labels and IDNA spellings of refused hosts. The general SSRF
 * cases live in tasks.unit.test.ts.
 */
import { describe, expect, it } from "vitest";
import { allowLoopbackTargets, checkOutboundUrl, normalizeHost } from "../src/outbound/url-policy";

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

describe("the local development switch opens loopback only", () => {
  const loopback = ["http://127.0.0.1:8787/_dev/echo", "http://127.1.2.3/", "http://localhost:9000/", "http://LOCALHOST./", "http://[::1]:8080/", "http://2130706433/"];
  it.each(loopback)("allows %s with the switch on, refuses it with the switch off", (url) => {
    expect(checkOutboundUrl(url, true).ok).toBe(true);
    expect(checkOutboundUrl(url, false).ok).toBe(false);
  });

  // Metadata, link-local and private ranges are never a development target.
  const never = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.1.1/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:127.0.0.1]/",
    "http://metadata.google.internal/",
    "http://app.localhost/",
    "http://printer.local/",
  ];
  it.each(never)("refuses %s even with the switch on", (url) => {
    expect(checkOutboundUrl(url, true).ok).toBe(false);
  });

  it("reads ALLOW_LOOPBACK_TARGETS, and the former ALLOW_PRIVATE_TARGETS as loopback only", () => {
    expect(allowLoopbackTargets({ ALLOW_LOOPBACK_TARGETS: "true" })).toBe(true);
    expect(allowLoopbackTargets({ ALLOW_LOOPBACK_TARGETS: "false" })).toBe(false);
    expect(allowLoopbackTargets({})).toBe(false);
    expect(allowLoopbackTargets({ ALLOW_PRIVATE_TARGETS: "true" })).toBe(true);
    expect(allowLoopbackTargets({ ALLOW_PRIVATE_TARGETS: "false" })).toBe(false);
  });
});
