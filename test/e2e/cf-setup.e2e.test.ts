/**
 * Issue 16: scripts/cf-setup.mjs (`npm run cf:setup`) creates an environment's D1 database and
 * queues and writes the database id into wrangler.toml, idempotently. Runs the real script on
 * a copy of the real wrangler.toml, with a fake wrangler that prints what wrangler prints.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { databaseIdFromCreate, databaseIdFromList, PLACEHOLDER_ID, resourcesOf, withDatabaseId } from "../../scripts/cf-setup.mjs";

const ROOT = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "token-vault-cf-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(args: string[], fake: Record<string, string> = {}) {
  const config = join(dir, "wrangler.toml");
  const log = join(dir, "calls.log");
  rmSync(log, { force: true });
  const run = spawnSync(process.execPath, ["scripts/cf-setup.mjs", "--config", config, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, CF_SETUP_WRANGLER: join(ROOT, "test/fakes/wrangler.mjs"), FAKE_WRANGLER_LOG: log, ...fake },
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, "utf8").trim().split("\n");
  } catch {
    calls = [];
  }
  return { ...run, calls, toml: readFileSync(config, "utf8") };
}

describe("npm run cf:setup", () => {
  it("creates production's database and queues, and writes the id into wrangler.toml only there", () => {
    copyFileSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    const before = readFileSync(join(dir, "wrangler.toml"), "utf8");
    const run = setup([], { FAKE_D1_ID: "11111111-2222-4333-8444-555555555555" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual(["d1 list --json", "d1 create token-vault", "queues create token-vault-tasks", "queues create token-vault-tasks-dlq"]);
    expect(resourcesOf(run.toml, undefined).databaseId).toBe("11111111-2222-4333-8444-555555555555");
    expect(resourcesOf(run.toml, "staging").databaseId).toBe(PLACEHOLDER_ID);
    // Only that one line changed.
    const changed = run.toml.split("\n").filter((line, i) => line !== before.split("\n")[i]);
    expect(changed).toEqual(['database_id = "11111111-2222-4333-8444-555555555555"']);
  });

  it("is idempotent: a second run keeps the id and accepts existing queues", () => {
    const run = setup([], { FAKE_EXISTING_QUEUES: "token-vault-tasks,token-vault-tasks-dlq" });
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual(["queues create token-vault-tasks", "queues create token-vault-tasks-dlq"]);
    expect(run.stdout).toContain("D1 database token-vault already set (11111111-2222-4333-8444-555555555555)");
    expect(run.stdout).toContain("queue token-vault-tasks exists");
  });

  it("reuses a database that exists under the configured name (a run that stopped before writing)", () => {
    const list = JSON.stringify([{ uuid: "99999999-8888-4777-8666-555555555555", name: "token-vault-staging", created_at: "2026-11-23T00:00:00Z" }]);
    const run = setup(["--env", "staging"], { FAKE_D1_LIST: list });
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual(["d1 list --json", "queues create token-vault-staging-tasks", "queues create token-vault-staging-tasks-dlq"]);
    expect(resourcesOf(run.toml, "staging").databaseId).toBe("99999999-8888-4777-8666-555555555555");
    expect(resourcesOf(run.toml, undefined).databaseId).toBe("11111111-2222-4333-8444-555555555555");
  });

  it("stops on a real failure and says which command failed", () => {
    copyFileSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
    const run = setup(["--env", "nope"]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("wrangler.toml has no [[env.nope.d1_databases]]");
  });

  it("reads wrangler.toml's resources and parses wrangler's output", () => {
    const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
    expect(resourcesOf(toml, undefined)).toEqual({ databaseName: "token-vault", databaseId: PLACEHOLDER_ID, queues: ["token-vault-tasks", "token-vault-tasks-dlq"] });
    expect(resourcesOf(toml, "staging")).toEqual({ databaseName: "token-vault-staging", databaseId: PLACEHOLDER_ID, queues: ["token-vault-staging-tasks", "token-vault-staging-tasks-dlq"] });
    expect(databaseIdFromCreate('{ "d1_databases": [{ "binding": "DB", "database_name": "x", "database_id": "0f0e0d0c-0b0a-4909-8807-060504030201" }] }')).toBe("0f0e0d0c-0b0a-4909-8807-060504030201");
    expect(() => databaseIdFromCreate("✘ [ERROR] not logged in")).toThrow(/could not find database_id/);
    expect(databaseIdFromList("[]", "x")).toBeUndefined();
    expect(() => withDatabaseId(toml, undefined, "not-an-id")).toThrow(/not a D1 database id/);
  });
});
