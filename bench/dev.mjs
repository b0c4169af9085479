#!/usr/bin/env node
// `npm run bench:dev`: task dispatch through the README's local server, run as a user runs it
// (`node scripts/dev.mjs`, i.e. `npm run dev`: wrangler dev with its proxy in front of the
// Worker, the queue settings of wrangler.toml, the sweeper every minute), from an empty state
// in a temporary directory. Drives N tasks with two `tok_` references each from concurrent
// clients to a local target, then a paced run, and reports creation rate, drain rate,
// dispatch latency, tasks lost and doubled, final statuses and CPU per task. Prints a table,
// writes bench/dev-results.json; exits non-zero on a lost or doubled task, a task not
// completed, a failed request, or a failed creation whose task ran anyway.
// See bench/README.md ("Through `npm run dev`").
//
// Knobs (environment): BENCH_TASKS (burst tasks, default 500), BENCH_CONNECTIONS (concurrent
// clients in the burst, default 16), BENCH_PACED_TASKS (300) and BENCH_PACED_RATE (100/s),
// BENCH_TEAMS (Pro teams the tasks rotate over, default 8), BENCH_DEADLINE_S (how long a task
// may take to reach the target before it counts as lost, default 120: two sweeper runs),
// BENCH_DEV_ROOT (the checkout whose scripts/dev.mjs runs, default this one: compares commits
// with the same bench).
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { join, resolve } from "node:path";
import { ROOT } from "./lib/config.mjs";
import { startDevServer, waitUntilServing } from "./lib/dev-server.mjs";
import { client, request } from "./lib/http.mjs";
import { cpuSeconds, findDescendants, listProcesses } from "./lib/procs.mjs";
import { fmt } from "./lib/report.mjs";
import { startTarget } from "./lib/runtime.mjs";
import { teamFixtures } from "./lib/teams.mjs";
import { drive as driveCalls, now, sleep, summarize } from "./lib/util.mjs";

const num = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const TASKS = num("BENCH_TASKS", 500);
const CONNECTIONS = num("BENCH_CONNECTIONS", 16);
const PACED_TASKS = num("BENCH_PACED_TASKS", 300);
const PACED_RATE = num("BENCH_PACED_RATE", 100);
const TEAMS = num("BENCH_TEAMS", 8);
const DEADLINE_MS = num("BENCH_DEADLINE_S", 120) * 1000;
const DEV_ROOT = resolve(process.env.BENCH_DEV_ROOT ?? ROOT);
const RESULTS_FILE = join(ROOT, "bench", "dev-results.json");
const DEV_LOG_FILE = join(ROOT, "bench", "dev-server.log");
// The Worker's error log lines ({"level":"error",...}) and wrangler's own errors.
// eslint-disable-next-line no-control-regex -- ANSI colour codes
const isErrorLine = (line) => /"level":\s*"error"|\[ERROR\]|\bError\b/.test(line.replace(/\u001b\[[0-9;]*m/g, ""));
const FINAL = new Set(["completed", "failed", "timeout", "cancelled"]);

const started = performance.now();
const log = (message) => process.stderr.write(`[bench:dev ${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

/**
 * The dev server's processes by role, told apart by their command lines: wrangler's proxy is
 * the workerd listening on the public port, the Worker's workerd has the inspector; the Node
 * side is scripts/dev.mjs itself and wrangler (its launcher and CLI, esbuild's service).
 */
function devProcesses(server) {
  const cmdline = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
    } catch {
      return "";
    }
  };
  const roles = { worker: [], proxy: [], wrangler: [], devScript: [server.pid] };
  for (const p of findDescendants(server.pid)) {
    if (p.comm !== "workerd") roles.wrangler.push(p.pid);
    else if (cmdline(p.pid).includes(`--socket-addr=entry=127.0.0.1:${server.port} `)) roles.proxy.push(p.pid);
    else roles.worker.push(p.pid);
  }
  return roles;
}

/** CPU seconds used so far by each role of `devProcesses()`. */
const devCpu = (roles) => Object.fromEntries(Object.entries(roles).map(([role, pids]) => [role, cpuSeconds(pids)]));

/** Every task of `team` created since `sinceMs`, through the list (pages of 100). */
async function listTeamTasks(team, sinceMs) {
  const tasks = [];
  let cursor;
  for (;;) {
    const query = new URLSearchParams({ createdAfter: new Date(sinceMs).toISOString(), limit: "100", ...(cursor ? { cursor } : {}) });
    team.uses.push(now()); // counted against the team's rate-limit budget like any request
    const res = await request(client.base, "GET", `/v1/tasks?${query}`, { headers: { authorization: `Bearer ${team.key}` } });
    if (res.status !== 200) throw new Error(`GET /v1/tasks answered ${res.status}: ${res.text}`);
    tasks.push(...res.json.tasks);
    if (!res.json.pagination.hasMore || !res.json.pagination.nextCursor) return tasks;
    cursor = res.json.pagination.nextCursor;
  }
}

/**
 * Creates `count` tasks (two references each, no delay, a unique tag in the target URL) as
 * fast as `concurrency` clients allow or paced at `rate` per second, waits until the target
 * saw every tag or the deadline passed, then reads the tasks' statuses back until all are final.
 */
async function drive({ roles, target, teams }, { prefix, count, concurrency, rate }) {
  const { pool, ensureCapacity, taskBody } = teams;
  await ensureCapacity(count, 1);
  const created = new Map(); // tag -> { at (createdAt), id, team }
  const failures = {}; // status (or "network error") -> count
  const failureSamples = [];
  const failedTags = [];
  const roundTrips = [];
  const create = async (i) => {
    const tag = `${prefix}-${i}`;
    const team = pool.pick();
    failedTags.push(tag); // until it is created
    try {
      const res = await request(client.base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: taskBody(team, tag) });
      roundTrips.push(res.ms);
      if (res.status === 201) {
        created.set(tag, { at: Date.parse(res.json.task.createdAt), id: res.json.task.id, team });
        failedTags.splice(failedTags.indexOf(tag), 1);
      } else {
        failures[res.status] = (failures[res.status] ?? 0) + 1;
        if (failureSamples.length < 5) failureSamples.push({ tag, status: res.status, body: res.text.slice(0, 300) });
      }
    } catch (error) {
      const key = `network error (${error.code ?? error.message})`;
      failures[key] = (failures[key] ?? 0) + 1;
    }
  };
  const cpuBefore = devCpu(roles);
  const createStarted = now();
  await driveCalls(count, { rate, concurrency }, create);
  const createSeconds = (now() - createStarted) / 1000;

  const ours = (hits) => hits.filter(([tag]) => tag.startsWith(`${prefix}-`));
  const deadline = now() + DEADLINE_MS;
  let hits = [];
  for (;;) {
    hits = ours(await target.report());
    const seen = new Set(hits.map(([tag]) => tag));
    if ([...created.keys()].every((tag) => seen.has(tag)) || now() > deadline) break;
    await sleep(50);
  }
  const firstHit = new Map(); // created tags only (a failed creation that ran anyway is counted at the end)
  for (const [tag, at] of hits) if (created.has(tag) && !firstHit.has(tag)) firstHit.set(tag, at);

  // Final statuses, read back through the API (a list per team).
  const ids = new Set([...created.values()].map((c) => c.id));
  const byTeam = new Set([...created.values()].map((c) => c.team));
  const firstCreated = Math.min(...[...created.values()].map((c) => c.at));
  let statuses = {};
  const statusDeadline = now() + 30_000;
  for (;;) {
    const rows = (await Promise.all([...byTeam].map((team) => listTeamTasks(team, firstCreated - 1000)))).flat().filter((t) => ids.has(t.id));
    statuses = {};
    for (const t of rows) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    const missing = ids.size - rows.length;
    if (missing > 0) statuses["not listed"] = missing;
    if ((rows.filter((t) => FINAL.has(t.status)).length >= ids.size) || now() > statusDeadline) break;
    await sleep(500);
  }
  const cpuAfter = devCpu(roles);

  const hitTimes = [...firstHit.values()].sort((a, b) => a - b);
  const lastHit = hitTimes[hitTimes.length - 1];
  const drainSeconds = (lastHit - firstCreated) / 1000;
  const steadyRate = hitTimes.length >= 10 ? (0.8 * hitTimes.length) / ((hitTimes[Math.floor(hitTimes.length * 0.9) - 1] - hitTimes[Math.floor(hitTimes.length * 0.1)]) / 1000) : NaN;
  const lost = [...created.keys()].filter((tag) => !firstHit.has(tag));
  return {
    mode: rate ? `paced at ${rate}/s` : `burst, ${concurrency} concurrent clients`,
    tasks: count,
    created: created.size,
    failures,
    failed: Object.values(failures).reduce((s, n) => s + n, 0),
    failureSamples,
    createSeconds,
    createRate: created.size / createSeconds,
    createRoundTrip: summarize(roundTrips),
    reached: firstHit.size,
    drainSeconds,
    drainRate: firstHit.size / drainSeconds,
    steadyRate,
    dispatch: summarize([...firstHit].map(([tag, at]) => at - (created.get(tag)?.at ?? at))),
    lost: lost.length,
    failedTags,
    lostTags: lost.slice(0, 20),
    finalStatuses: statuses,
    // CPU ms per task created, from the first creation until every status read back was final.
    cpuMsPerTask: Object.fromEntries(Object.keys(cpuAfter).map((role) => [role, ((cpuAfter[role] - cpuBefore[role]) * 1000) / created.size])),
  };
}

/** Tags hit more than once, counted after every run (a late duplicate would show up here). */
function doubled(hits, prefix) {
  const seen = new Map();
  for (const [tag] of hits) if (tag.startsWith(`${prefix}-`)) seen.set(tag, (seen.get(tag) ?? 0) + 1);
  const tags = [...seen].filter(([, n]) => n > 1).map(([tag]) => tag);
  return { count: tags.length, extraHits: [...seen.values()].reduce((s, n) => s + Math.max(0, n - 1), 0), tags: tags.slice(0, 20) };
}

function collectMeta(server) {
  const git = (...args) => {
    try {
      return execFileSync("git", args, { cwd: DEV_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  const version = (name) => {
    try {
      return JSON.parse(readFileSync(join(DEV_ROOT, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      return "unknown";
    }
  };
  const toml = readFileSync(join(DEV_ROOT, "wrangler.toml"), "utf8");
  const consumer = /\[\[queues\.consumers\]\]\s*\nqueue = "token-vault-tasks"\n([^[]*)/.exec(toml)?.[1] ?? "";
  const setting = (name) => new RegExp(`^${name}\\s*=\\s*(\\S+)`, "m").exec(consumer)?.[1] ?? "default";
  return {
    timestamp: new Date().toISOString(),
    driver: `node scripts/dev.mjs --port ${server.port} (npm run dev: wrangler dev), fresh TV_PERSIST_DIR and TV_DEV_VARS in a temp dir`,
    source: {
      root: DEV_ROOT,
      commit: git("rev-parse", "--short", "HEAD") || "unknown",
      modified: git("status", "--porcelain", "--", "src", "migrations", "wrangler.toml", "scripts") !== "",
    },
    versions: { wrangler: version("wrangler"), workerd: version("workerd") },
    queue: { maxBatchSize: setting("max_batch_size"), maxBatchTimeout: setting("max_batch_timeout"), maxConcurrency: setting("max_concurrency") },
    load: { tasks: TASKS, connections: CONNECTIONS, pacedTasks: PACED_TASKS, pacedRate: PACED_RATE, teams: TEAMS, deadlineSeconds: DEADLINE_MS / 1000 },
    machine: { nproc: os.availableParallelism?.() ?? os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", node: process.version, loadAverageAtStart: os.loadavg().map((x) => Number(x.toFixed(2))) },
  };
}

function print(meta, runs, devErrors) {
  const [burst, paced] = runs;
  const statusText = (s) => Object.entries(s).map(([k, n]) => `${k} ${n}`).join(", ") || "-";
  const failText = (r) => (r.failed === 0 ? "0" : `${r.failed} (${Object.entries(r.failures).map(([k, n]) => `${k}: ${n}`).join(", ")})`);
  const rows = [
    ["tasks created (201) / sent", (r) => `${r.created}/${r.tasks}`],
    ["creations refused or failed (non-2xx, network)", failText],
    ["tasks created/s", (r) => fmt(r.createRate, "tasks/s")],
    ["POST /v1/tasks round trip p50", (r) => fmt(r.createRoundTrip.p50, "ms")],
    ["POST /v1/tasks round trip p99", (r) => fmt(r.createRoundTrip.p99, "ms")],
    ["drain rate (first created -> last target hit)", (r) => fmt(r.drainRate, "tasks/s")],
    ["  drain time", (r) => `${r.drainSeconds.toFixed(2)} s`],
    ["  steady drain (10th -> 90th percentile hit)", (r) => fmt(r.steadyRate, "tasks/s")],
    ["dispatch latency p50 (created -> target hit)", (r) => fmt(r.dispatch.p50, "ms")],
    ["dispatch latency p99", (r) => fmt(r.dispatch.p99, "ms")],
    ["dispatch latency max", (r) => fmt(r.dispatch.max, "ms")],
    [`tasks lost (no hit within ${DEADLINE_MS / 1000} s)`, (r) => String(r.lost)],
    ["tasks doubled (tag hit more than once)", (r) => String(r.doubled.count)],
    ["failed creations whose task ran anyway", (r) => String(r.ranAnyway)],
    ["final statuses (GET /v1/tasks)", (r) => statusText(r.finalStatuses)],
    ["CPU per task: workerd running the Worker", (r) => fmt(r.cpuMsPerTask.worker, "ms")],
    ["  workerd running wrangler's proxy", (r) => fmt(r.cpuMsPerTask.proxy, "ms")],
    ["  wrangler (Node)", (r) => fmt(r.cpuMsPerTask.wrangler, "ms")],
    ["  scripts/dev.mjs (Node: filters the output)", (r) => fmt(r.cpuMsPerTask.devScript, "ms")],
  ];
  const header = ["Figure", burst.mode, paced.mode];
  const table = rows.map(([name, f]) => [name, f(burst), f(paced)]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd();
  const m = meta.machine;
  console.log(
    [
      "",
      `Token Vault through npm run dev, ${meta.timestamp}`,
      `Server:   ${meta.driver}`,
      `Source:   ${meta.source.root} at ${meta.source.commit}${meta.source.modified ? " + uncommitted changes" : ""}; wrangler ${meta.versions.wrangler}, workerd ${meta.versions.workerd}`,
      `Queue:    wrangler.toml token-vault-tasks consumer: max_batch_size ${meta.queue.maxBatchSize}, max_batch_timeout ${meta.queue.maxBatchTimeout}, max_concurrency ${meta.queue.maxConcurrency}`,
      `Load:     ${TASKS} tasks from ${CONNECTIONS} concurrent clients, then ${PACED_TASKS} at ${PACED_RATE}/s; two tok_ references each; ${meta.teams} Pro teams round robin (600 requests/min each, none refused)`,
      `Machine:  ${m.nproc} CPUs (${m.cpu}), Node ${m.node}; load average ${m.loadAverageAtStart.join("/")} at start, ${m.loadAverageAtEnd.join("/")} at end`,
      ...(m.otherRuntimeProcessesAtStart > 0 ? [`WARNING:  ${m.otherRuntimeProcessesAtStart} other workerd/vitest/wrangler processes were running at the start: figures are skewed`] : []),
      "",
      line(header),
      widths.map((w) => "-".repeat(w)).join("  "),
      ...table.map(line),
      "",
      `Dev server: ${meta.devOutputLinesPerTask.toFixed(1)} lines of output per task (wrangler reads and prints the Worker's log lines), ${devErrors} of them errors; idle CPU before the runs (% of one core): ${Object.entries(meta.idleCpuPercent).map(([role, pct]) => `${role} ${pct.toFixed(1)}`).join(", ")}. Total ${meta.totalSeconds.toFixed(0)} s.`,
    ].join("\n"),
  );
}

async function main() {
  let server;
  let target;
  let stopping = false;
  const shutdown = async () => {
    client.agent?.destroy();
    await server?.stop();
    if (target) {
      try {
        target.child.disconnect();
      } catch {
        // already gone
      }
      target.child.kill();
    }
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`\n[bench:dev] ${signal}: stopping the dev server (process group ${server?.pid ?? "-"}) and the target\n`);
      void shutdown().finally(() => process.exit(130));
    });
  }

  try {
    target = await startTarget();
    server = await startDevServer(DEV_ROOT);
    log(`started scripts/dev.mjs from ${DEV_ROOT} on port ${server.port} (pid ${server.pid}, state in ${server.dir})`);
    await waitUntilServing(server);
    log("GET /healthz answers 200");
    // wrangler dev closes a keep-alive connection after 5 s idle; a request sent on it as it
    // closes fails (ECONNRESET) without reaching the Worker. Idle sockets are closed here
    // first, after 4 s (undici's default keep-alive timeout, for the same reason).
    Object.assign(client, { base: server.base, agent: new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4000 }) });
    const meta = collectMeta(server);
    const roles = devProcesses(server);
    if (roles.worker.length === 0 || roles.proxy.length === 0) throw new Error(`could not tell wrangler's two workerd processes apart: ${JSON.stringify(roles)}`);
    meta.processes = roles;
    const ownPids = new Set(Object.values(roles).flat());
    meta.machine.otherRuntimeProcessesAtStart = listProcesses().filter((p) => ["workerd", "vitest", "wrangler"].some((name) => p.comm.includes(name)) && !ownPids.has(p.pid)).length;

    const teams = teamFixtures({ base: server.base, adminToken: server.adminToken(), targetBase: target.base });
    await teams.growPool(TEAMS);
    meta.teams = teams.pool.teams.length;
    log(`created ${meta.teams} Pro teams with 2 tokens each`);
    // Let startup work (the first sweep, dev.mjs's own team) settle, and note what idle costs.
    await sleep(1000);
    const idleBefore = devCpu(roles);
    await sleep(3000);
    const idleAfter = devCpu(roles);
    meta.idleCpuPercent = Object.fromEntries(Object.keys(idleAfter).map((role) => [role, ((idleAfter[role] - idleBefore[role]) / 3) * 100]));

    const ctx = { roles, target, teams };
    log(`burst: ${TASKS} tasks from ${CONNECTIONS} concurrent clients`);
    const burst = await drive(ctx, { prefix: "burst", count: TASKS, concurrency: CONNECTIONS });
    log(`burst: ${burst.reached}/${burst.created} reached the target in ${burst.drainSeconds.toFixed(1)} s; paced: ${PACED_TASKS} tasks at ${PACED_RATE}/s`);
    const paced = await drive(ctx, { prefix: "paced", count: PACED_TASKS, rate: PACED_RATE });
    log(`paced: ${paced.reached}/${paced.created} reached the target`);
    // A duplicate delivery can come after the first hit: look once more after a pause.
    await sleep(2000);
    const allHits = await target.report();
    const hitTags = new Set(allHits.map(([tag]) => tag));
    for (const [run, prefix] of [[burst, "burst"], [paced, "paced"]]) {
      run.doubled = doubled(allHits, prefix);
      // A creation the client saw fail whose task ran anyway: a client retrying it would double it.
      run.ranAnyway = run.failedTags.filter((tag) => hitTags.has(tag)).length;
    }
    const devLines = server.log().split("\n");
    const devErrors = devLines.filter(isErrorLine).length;
    meta.devOutputLinesPerTask = devLines.length / (burst.created + paced.created);

    meta.totalSeconds = (performance.now() - started) / 1000;
    meta.machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    meta.devErrorLines = devErrors;
    print(meta, [burst, paced], devErrors);
    writeFileSync(RESULTS_FILE, JSON.stringify({ meta, runs: { burst, paced } }, null, 2) + "\n");
    log(`wrote ${RESULTS_FILE}`);

    const problems = [];
    for (const r of [burst, paced]) {
      if (r.failed > 0) problems.push(`${r.mode}: ${r.failed} creations refused or failed ${JSON.stringify(r.failures)}; first answers: ${r.failureSamples.map((f) => `${f.status} ${f.body}`).join(" | ")}`);
      if (r.lost > 0) problems.push(`${r.mode}: ${r.lost} tasks lost (never reached the target), e.g. ${r.lostTags.slice(0, 5).join(", ")}`);
      if (r.doubled.count > 0) problems.push(`${r.mode}: ${r.doubled.count} tasks doubled (${r.doubled.extraHits} extra hits), e.g. ${r.doubled.tags.slice(0, 5).join(", ")}`);
      if (r.ranAnyway > 0) problems.push(`${r.mode}: ${r.ranAnyway} creations answered as failed ran anyway (a retry would double them)`);
      const notCompleted = Object.entries(r.finalStatuses).filter(([s]) => s !== "completed");
      if (notCompleted.length > 0) problems.push(`${r.mode}: not every task completed: ${JSON.stringify(r.finalStatuses)}`);
    }
    if (problems.length > 0) {
      // The server's output says why (its temp dir goes away): kept beside the results, git-ignored (*.log).
      copyFileSync(server.logFile, DEV_LOG_FILE);
      const errorLines = devLines.filter(isErrorLine);
      if (errorLines.length > 0) problems.push(`dev server error lines (first 5 of ${errorLines.length}):\n    ${errorLines.slice(0, 5).join("\n    ")}`);
      problems.push(`the dev server's whole output is in ${DEV_LOG_FILE}`);
      console.log(`\nCHECKS FAILED:\n  ${problems.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log("\nChecks: every task created (0 non-2xx), reached the target exactly once and completed.");
    }
  } finally {
    if (!stopping) await shutdown();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
