import { describe, expect, it } from "vitest";
import { SLUG_PATTERN, slugFromName } from "../src/teams/slugs";

describe("vault slugs", () => {
  it("derive from a team name: lowercase, non-alphanumeric runs to one hyphen, trimmed, at most 64", () => {
    expect(slugFromName("Acme Corp")).toBe("acme-corp");
    expect(slugFromName("  --Ünïcode & Co.!! ")).toBe("n-code-co");
    expect(slugFromName("a".repeat(70))).toHaveLength(64);
    expect(slugFromName(`${"a".repeat(63)}-b`)).toBe("a".repeat(63));
    expect(slugFromName("!!")).toBe("");
  });

  it("are 3-64 lowercase letters and digits joined by single hyphens", () => {
    for (const ok of ["abc", "team-01jrx7m2k0000000000000000a", "a1-b2-c3", "x".repeat(64)]) expect(SLUG_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ["ab", "Abc", "a--b", "-abc", "abc-", "a_b", "x".repeat(65), "a.b"]) expect(SLUG_PATTERN.test(bad), bad).toBe(false);
  });
});
