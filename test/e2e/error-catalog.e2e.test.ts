/**
 * The error catalog as clients meet it: the README's table is the catalog, and seed 002's
 * bodies reach a real client byte for byte, with only `code` added.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOG } from "../../src/errors";
import { createTeam, createToken, request } from "./helpers";

const README = new URL("../../README.md", import.meta.url);

/** The table as the README must show it (paste this between the markers when the catalog changes). */
function catalogTable(): string {
  const rows = Object.entries(ERROR_CATALOG).map(([code, entry]) => `| \`${code}\` | ${entry.status} | ${entry.description} |`);
  return ["| Code | Status | When |", "|---|---|---|", ...rows].join("\n");
}

describe("the error catalog", () => {
  it("is the README's table of codes", () => {
    const readme = readFileSync(README, "utf8");
    const table = /<!-- error-codes:start -->\n([\s\S]*?)\n<!-- error-codes:end -->/.exec(readme)?.[1];
    expect(table, "README.md needs the table between <!-- error-codes:start --> and <!-- error-codes:end -->").toBeDefined();
    expect(table, `README.md's table differs from src/errors.ts; expected:\n${catalogTable()}`).toBe(catalogTable());
  });

  it("answers seed 002's bodies exactly, plus code", async () => {
    const a = await createTeam("pro");
    const b = await createTeam("pro");
    const theirs = await createToken(b.key, "e2e-seed-002-value");
    const missing = await request("GET", "/v1/tasks");
    expect([missing.status, missing.text]).toEqual([401, '{"error":"API key required","code":"api_key_required"}']);
    const invalid = await request("GET", "/v1/tasks", { headers: { "x-api-key": "tvk_not-a-key" } });
    expect([invalid.status, invalid.text]).toEqual([401, '{"error":"Invalid or revoked API key","code":"invalid_api_key"}']);
    const denied = await request("GET", `/v1/tokens/${theirs}`, { key: a.key });
    expect([denied.status, denied.text]).toEqual([403, '{"error":"Access denied","code":"access_denied"}']);
  });
});
