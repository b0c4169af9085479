/**
 * Issue 16: the README's examples run in order, exactly as written, against the local server.
 * Every ```sh block runs in one bash session (variables carry from block to block) with
 * `set -euo pipefail` and curl failing on any HTTP error, from a directory holding the server's
 * `.dev.vars` and `.dev-team.json` as `npm run dev` leaves them. fal and Replicate are stood in
 * for by the Worker's /_dev/ targets through FAL_URL and REPLICATE_URL, as the README says.
 * Blocks that must not run here (install, test, deploy) are marked `<!-- readme-test: skip -->`.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { baseUrl, waitForTask } from "./helpers";
import { shellBlocks, SKIP } from "./readme-blocks";

const ROOT = join(import.meta.dirname, "..", "..");

describe("README examples", () => {
  const blocks = shellBlocks(readFileSync(join(ROOT, "README.md"), "utf8"));
  const runnable = blocks.filter((b) => !b.skipped);
  const skipped = blocks.filter((b) => b.skipped);

  it("skips only blocks that install, test or deploy", () => {
    // So an API example cannot be skipped to hide that it broke: a skipped block installs,
    // tests or deploys (npm, npx, wrangler, git), or talks to a deployment (<your-...>).
    for (const block of skipped) expect(block.code, `README line ${block.line}`).toMatch(/\b(npm|npx|wrangler|git)\b|<your-/);
    expect(runnable.length).toBeGreaterThanOrEqual(12);
    console.log(`README: ${runnable.length} sh blocks run, ${skipped.length} skipped (install, test, deploy)`);
  });

  it("run in order, exactly as written, against the local server", async () => {
    const dir = inject("devDir");
    // The directory `npm run dev` leaves behind: .dev-team.json (already there) and .dev.vars.
    const vars = readdirSync(dir).find((f) => f === "dev.vars");
    expect(vars).toBe("dev.vars");
    copyFileSync(join(dir, "dev.vars"), join(dir, ".dev.vars"));
    const marker = (i: number) => `__README_BLOCK_${i}__`;
    const script = [
      "set -euo pipefail",
      // Any HTTP error fails the example that caused it (the body is still shown).
      'curl() { command curl --fail-with-body --silent --show-error "$@"; }',
      ...runnable.flatMap((block, i) => [`echo ${marker(i)} >&2`, block.code]),
      'echo "__README_VARS__ $TASK_ID $REPLICATE_TASK_ID"',
    ].join("\n");
    const base = baseUrl();
    const run = spawnSync("bash", ["-c", script], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", FAL_URL: `${base}/_dev/fal`, REPLICATE_URL: `${base}/_dev/replicate` },
    });
    const reached = [...run.stderr.matchAll(/__README_BLOCK_(\d+)__/g)].map((m) => Number(m[1]));
    const last = runnable[reached.at(-1) ?? 0];
    expect(run.status, `README block at line ${last?.line} failed:\n${last?.code}\n--- stdout tail ---\n${run.stdout.slice(-1500)}\n--- stderr ---\n${run.stderr.replace(/__README_BLOCK_\d+__\n/g, "")}`).toBe(0);
    expect(reached.length).toBe(runnable.length);

    // The fal and Replicate examples complete through the stand-ins, as the README describes.
    const [, taskId, replicateTaskId] = /__README_VARS__ (\S+) (\S+)/.exec(run.stdout) ?? [];
    const key = JSON.parse(readFileSync(join(dir, ".dev-team.json"), "utf8")).key as string;
    const fal = await waitForTask(key, taskId ?? "");
    expect(fal).toMatchObject({ status: "completed", provider: "fal" });
    expect(JSON.parse(fal.result.body)).toMatchObject({ prompt: "a beautiful sunset over mountains" });
    const replicate = await waitForTask(key, replicateTaskId ?? "");
    expect(replicate).toMatchObject({ status: "completed", provider: "replicate", result: { output: ["echo: hello"] } });
  });
});

describe("the README block parser", () => {
  it("finds sh blocks and their skip markers", () => {
    const md = ["text", SKIP, "", "```sh", "npm ci", "```", "```json", "{}", "```", "```sh", "curl $BASE", "```"].join("\n");
    expect(shellBlocks(md)).toEqual([
      { line: 4, code: "npm ci", skipped: true },
      { line: 10, code: "curl $BASE", skipped: false },
    ]);
  });
});
