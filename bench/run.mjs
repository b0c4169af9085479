#!/usr/bin/env node
// `npm run bench`: drives the real Token Vault Worker in the local runtime and prints a table
// (also written to bench/results.json). See bench/README.md for what each figure means.
//
// Runtime: src/index.ts bundled with esbuild (as wrangler does) and run through Miniflare's
// API (`new Miniflare({...})`, bindings as in wrangler.toml, ephemeral storage), i.e. HTTP
// into Miniflare's entry worker in workerd, then the Worker. Not `wrangler dev` (its proxy
// costs ~3x) and not bare workerd sockets. The D1 database gets migrations/, read by the same
// loader as the tests (scripts/d1-migrations.mjs).
//
// This file sets up and tears down; each section lives in bench/sections/, the shared pieces
// in bench/lib/.
//
// Environment knobs: BENCH_DURATION (measured seconds per load run, default 8),
// BENCH_WARMUP (default 2), BENCH_CONNECTIONS (default 8), BENCH_TASKS (end-to-end N, default 500),
// BENCH_SAMPLES (sequential round trips per micro figure, default 300), BENCH_ONLY (comma-separated
// section numbers to run, e.g. "4,8"; default all).
import { writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { applyMigrations, readMigrations } from "../scripts/d1-migrations.mjs";
import { benchWorker } from "./lib/bench-worker.mjs";
import { RESULTS_FILE } from "./lib/config.mjs";
import { client } from "./lib/http.mjs";
import { memoryMonitor } from "./lib/memory.mjs";
import { findWorkerdPids, listProcesses } from "./lib/procs.mjs";
import { problems, report } from "./lib/report.mjs";
import { bundle, collectMeta, startMiniflare, startTarget, teardown } from "./lib/runtime.mjs";
import { teamFixtures } from "./lib/teams.mjs";
import { ceilingSection } from "./sections/1-ceiling.mjs";
import { authenticatedSection } from "./sections/2-authenticated.mjs";
import { resolutionSection } from "./sections/3-resolution.mjs";
import { endToEndSection } from "./sections/4-end-to-end.mjs";
import { rateLimiterSection } from "./sections/5-rate-limiter.mjs";
import { memorySection } from "./sections/6-memory.mjs";
import { fairnessSection } from "./sections/7-fairness.mjs";
import { costSection } from "./sections/8-cost.mjs";
import { storeSection } from "./sections/8-store.mjs";
import { proxySection } from "./sections/10-proxy.mjs";

async function main() {
  const startedAt = new Date();
  const benchStarted = performance.now();
  const log = (message) => process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

  const meta = collectMeta(startedAt);
  const outDir = await bundle(meta);
  log(`bundled src/index.ts and bench/resolve-worker.ts into ${outDir}`);
  const target = await startTarget();
  const { mf, bindings, runtimeErrors } = startMiniflare({ outDir, compatibilityDate: meta.runtime.compatibilityDate });
  const memory = memoryMonitor();
  const cleanup = teardown({ mf, target, outDir, memory });

  const rows = [];
  const row = (section, figure, value, unit, ratio, baseline, extra = {}) => rows.push({ section, figure, value, unit, ratio, baseline, ...extra });
  const raw = {};

  try {
    const base = (await mf.ready).href;
    Object.assign(client, { base, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }), workerdPids: findWorkerdPids() });
    if (client.workerdPids.length === 0) throw new Error("could not find the workerd process under this Node process");
    // Anything else busy on this machine skews every figure: note other workerd/vitest/wrangler processes.
    const others = listProcesses().filter((p) => ["workerd", "vitest", "wrangler"].some((name) => p.comm.includes(name)) && !client.workerdPids.includes(p.pid));
    meta.machine.loadAverageAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
    meta.machine.otherRuntimeProcessesAtStart = others.length;
    if (others.length > 0) log(`WARNING: ${others.length} other workerd/vitest/wrangler processes are running; figures will be skewed`);
    log(`Miniflare ready at ${base} (workerd pid ${client.workerdPids.join(", ")})`);

    const db = await mf.getD1Database("DB");
    const applied = await applyMigrations(db, await readMigrations());
    log(`applied migrations ${applied.join(", ")}`);
    memory.start();

    const teams = teamFixtures({ base, adminToken: bindings.ADMIN_TOKEN, targetBase: target.base });
    await teams.growPool(24);
    log(`created ${teams.pool.teams.length} Pro teams with 2 tokens each`);
    memory.phase("setup");

    const ctx = { base, db, target, teams, benchWorker: benchWorker(base), row, raw, log, memory };
    const only = new Set((process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean));
    const runs = (n) => only.size === 0 || only.has(String(n));
    // Sections 2 and 5 compare against 1 and 3: they bring their baseline along.
    const ceiling = runs(1) || runs(2) || runs(10) ? await ceilingSection(ctx) : undefined;
    if (runs(2)) await authenticatedSection(ctx, ceiling);
    const resolution = runs(3) || runs(5) ? await resolutionSection(ctx) : undefined;
    if (runs(8)) await costSection(ctx);
    if (runs(4)) await endToEndSection(ctx);
    if (runs(5)) await rateLimiterSection(ctx, resolution);
    if (runs(7)) await fairnessSection(ctx);
    if (runs(9)) await storeSection(ctx, ceiling ?? (await ceilingSection(ctx)));
    if (runs(10)) await proxySection(ctx, ceiling);
    if (runs(6)) memorySection(ctx);

    meta.totalSeconds = (performance.now() - benchStarted) / 1000;
    meta.machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    meta.teams = { pro: teams.pool.teams.length + 1, free: 1, poolExhausted: teams.pool.exhausted ?? 0 };
    if (runtimeErrors.length > 0) meta.runtimeErrors = runtimeErrors.slice(0, 10);
    report(meta, rows, raw);
    writeFileSync(RESULTS_FILE, JSON.stringify({ meta, results: rows, raw }, null, 2) + "\n");
    log(`wrote ${RESULTS_FILE}`);

    const failed = problems(raw);
    if (failed.length > 0) {
      console.log(`\nCHECKS FAILED:\n  ${failed.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log("\nChecks: 0 non-2xx on every load run, rate limiter exact, every task reached the target.");
    }
  } finally {
    await cleanup();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
