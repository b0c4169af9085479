#!/usr/bin/env node
// Makes sure the browser of the portal's browser tests (test/e2e/portal.e2e.test.ts) is installed:
// Debian's `chromium` package at /usr/bin/chromium (or CHROMIUM_PATH). When it is missing and this
// runs as root, it is installed with apt-get; otherwise this fails with a message naming the
// package. `npm test` and .ci/run call it before vitest, so a fresh machine needs no manual step.
// It never downloads a browser of its own (no Playwright browser downloads).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function works() {
  if (!existsSync(path)) return false;
  const run = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 30_000 });
  return run.status === 0 && /chrom/i.test(run.stdout);
}

if (works()) process.exit(0);

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
if (!isRoot || process.env.CHROMIUM_PATH) {
  console.error(
    `[chromium] ${path} is missing or does not start. The portal's browser tests need Debian's "chromium" package:\n` +
      `  sudo apt-get install -y chromium\n(or set CHROMIUM_PATH to a Chromium binary).`,
  );
  process.exit(1);
}

console.log(`[chromium] ${path} not found: installing Debian's "chromium" package with apt-get`);
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "chromium"]]) {
  const run = spawnSync("apt-get", args, { stdio: "inherit", env });
  if (run.status !== 0) {
    console.error(`[chromium] apt-get ${args.join(" ")} failed (exit ${run.status ?? run.signal}): install the "chromium" package by hand`);
    process.exit(1);
  }
}
if (!works()) {
  console.error(`[chromium] the "chromium" package is installed but ${path} does not start`);
  process.exit(1);
}
console.log(`[chromium] installed: ${path}`);
