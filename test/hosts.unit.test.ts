import { describe, expect, it } from "vitest";
import { hostMatches, normalizeHostPattern, urlAllowedFor } from "../src/vault/hosts";
import { parseTtl, versionLabel } from "../src/vault/store";

describe("allowedHosts patterns", () => {
  it("normalises names and one-level wildcards; refuses anything else", () => {
    expect(normalizeHostPattern("API.OpenAI.com.")).toBe("api.openai.com");
    expect(normalizeHostPattern("*.example.com")).toBe("*.example.com");
    for (const bad of ["*.com", "*", "a..b", "https://x.com", "x.com/path", "*.*.example.com", "exa mple.com", "", "-a.com"]) {
      expect(normalizeHostPattern(bad), bad).toBeUndefined();
    }
  });

  it("a wildcard matches exactly one label", () => {
    expect(hostMatches("api.example.com", "*.example.com")).toBe(true);
    expect(hostMatches("example.com", "*.example.com")).toBe(false);
    expect(hostMatches("a.b.example.com", "*.example.com")).toBe(false);
    expect(hostMatches("evilexample.com", "*.example.com")).toBe(false);
    expect(hostMatches("api.example.com", "api.example.com")).toBe(true);
    expect(hostMatches("api.example.com.evil.com", "api.example.com")).toBe(false);
  });

  it("checks URLs as the URL policy normalises them, and fails closed", () => {
    expect(urlAllowedFor("https://API.example.com./x", ["api.example.com"])).toBe(true);
    expect(urlAllowedFor("https://api.example.com:8443/x", ["api.example.com"])).toBe(true);
    expect(urlAllowedFor("https://api.example.com@evil.com/", ["api.example.com"])).toBe(false);
    expect(urlAllowedFor("not a url", ["api.example.com"])).toBe(false);
    expect(urlAllowedFor("https://anything.test/", null)).toBe(true);
    expect(urlAllowedFor("https://anything.test/", [])).toBe(false);
  });
});

describe("store helpers", () => {
  it("parses seed 004's TTLs", () => {
    expect(["90s", "15m", "4h", "7d", "30m"].map((t) => parseTtl(t))).toEqual([90, 900, 14400, 604800, 1800]);
    expect(parseTtl(90)).toBe(90);
    for (const bad of ["", "0s", "1w", "-5m", "4 hours", 0, -1, 1.5]) expect(parseTtl(bad as string | number), String(bad)).toBeUndefined();
  });

  it("binds version 1 to the token id alone (rows sealed before versions stay readable), later versions to their number", () => {
    expect(versionLabel("tok_x", 1)).toBe("tok_x");
    expect(versionLabel("tok_x", 2)).toBe("tok_x#v2");
  });
});
