/**
 * The README's CLI session (section "CLI") runs as written: its sh blocks, in one bash session
 * with `set -euo pipefail`, from the repository (where `npx token-vault` is the project's own
 * bin; npm is offline, so the registry is never asked), against the local server. The
 * account it signs in with is made first, as the README's Accounts section does. The session
 * file goes to a temporary XDG_CONFIG_HOME, never the developer's own.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, tempDir, walk } from "./cli-run";
import { baseUrl, request } from "./helpers";
import { shellBlocks } from "./readme-blocks";

function cliSection(readme: string): string {
  const start = readme.indexOf("\n## CLI\n");
  if (start < 0) throw new Error('README has no "## CLI" section');
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe("README: the CLI session", () => {
  it("runs as written against the local server", async () => {
    const blocks = shellBlocks(cliSection(readFileSync(join(ROOT, "README.md"), "utf8")));
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    // Skipped by the README run (it runs from the server's directory, not the repository): run here.
    for (const block of blocks) expect(block.skipped).toBe(true);
    const signup = await request("POST", "/auth/signup", { body: { email: "grace@example.com", password: "a long passphrase", teamName: "Grace's team" } });
    expect(signup.status).toBe(201);

    const xdg = tempDir("readme-xdg");
    const run = spawnSync("bash", ["-c", ["set -euo pipefail", ...blocks.map((b) => b.code)].join("\n")], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 180_000,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", XDG_CONFIG_HOME: xdg, BASE: baseUrl(), npm_config_offline: "true", npm_config_update_notifier: "false" },
    });
    expect(run.status, `--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain(`Logged in to ${baseUrl()} as grace@example.com`);
    expect(run.stdout).toMatch(/^vault\s+grace-s-team \(your only vault\)$/m);
    expect(run.stdout).toMatch(/^Set STRIPE_KEY in \S+\.$/m);
    expect(run.stdout).toMatch(/^stripe\s+api\.stripe\.com\s+yes\s+bearer STRIPE_KEY$/m);
    expect(run.stdout).toMatch(/^STRIPE_KEY\s+static\s+tok_/m);
    expect(run.stdout).toMatch(/^openai_api_key\s+tok_/m);
    expect(run.stdout).toMatch(/status\s+completed/);
    expect(run.stdout).toContain('"authorization":"Bearer [REDACTED]"');
    expect(run.stdout).toMatch(/^token\.created$/m);
    expect(run.stdout).toMatch(/^Revoked tok_\S+ \(fal\.ai Production Key\)\.$/m);
    expect(run.stdout).toContain(`${baseUrl()}/proxy ${baseUrl()}/s/stripe\n`);
    expect(run.stdout).toMatch(/^prop_\S+\s+pending\s+\S+\s+GITHUB_TOKEN\s+github\s+I need GitHub$/m);
    expect(run.stdout).toMatch(/^Approved prop_\S+: set GITHUB_TOKEN; services github\.$/m);
    expect(run.stdout).toContain(`Logged out of ${baseUrl()}.`);
    // Values went in by stdin and came out only into a variable; the session is gone after logout.
    for (const value of ["sk-abc123", "your-fal-api-key-here", "sk_test_abc123", "ghp_example_value"]) {
      expect(run.stdout).not.toContain(value);
      expect(run.stderr).not.toContain(value);
    }
    expect(walk(xdg)).toEqual([]);
  });
});
