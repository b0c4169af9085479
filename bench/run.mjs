#!/usr/bin/env node
// `npm run bench`: drives the real Token Vault Worker in the local runtime and prints a table
// (also written to bench/results.json). See bench/README.md for what each figure means.
//
// Runtime: src/index.ts bundled with esbuild (as wrangler does) and run through Miniflare's
// API (`new Miniflare({...})`, bindings as in wrangler.toml, ephemeral storage), i.e. HTTP
// into Miniflare's entry worker in workerd, then the Worker. Not `wrangler dev` (its proxy
// costs ~3x) and not bare workerd sockets.
//
// Environment knobs: BENCH_DURATION (measured seconds per load run, default 8),
// BENCH_WARMUP (default 2), BENCH_CONNECTIONS (default 8), BENCH_TASKS (end-to-end N, default 500),
// BENCH_SAMPLES (sequential round trips per micro figure, default 300).
import { execFileSync, fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";

const require = createRequire(import.meta.url);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS_FILE = join(ROOT, "bench", "results.json");

const num = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
const DURATION = num("BENCH_DURATION", 8);
const WARMUP = num("BENCH_WARMUP", 2);
const CONNECTIONS = num("BENCH_CONNECTIONS", 8);
const E2E_TASKS = num("BENCH_TASKS", 500);
const SAMPLES = num("BENCH_SAMPLES", 300);
// In-Worker loops: calls per loop, timed in chunks (workerd's clock has 1 ms steps).
const LOOP_CALLS = 1000;
const LOOP_CHUNK = 50;
const E2E_CREATE_CONCURRENCY = 16;
// A second end-to-end run at a rate the local consumer keeps up with (latency without backlog).
const PACED_RATE = 100;
const PACED_TASKS = 300;
const RATE_ACCURACY_REQUESTS = 200;
const FREE_LIMIT = 60;
const PRO_LIMIT = 600;
// Client-side budget per Pro team: stay well under 600 per 60 s window (with margin for clock skew).
const TEAM_BUDGET = 560;
const TEAM_WINDOW_MS = 65_000;
const BENCH_HOST = "bench.local";

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.timeOrigin + performance.now();

function summarize(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: at(50), p99: at(99), mean, min: sorted[0] ?? NaN, max: sorted[sorted.length - 1] ?? NaN };
}

async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Splits schema.sql into statements: `--` comments stripped, split on `;` at line ends. */
export function schemaStatements(sql) {
  const withoutComments = sql
    .split("\n")
    .map((line) => {
      // Drop `--` to end of line unless it sits inside a string literal.
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        if (line[i] === "'") quoted = !quoted;
        else if (!quoted && line[i] === "-" && line[i + 1] === "-") return line.slice(0, i);
      }
      return line;
    })
    .join("\n");
  return withoutComments
    .split(/;[ \t]*(?:\r?\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

let client; // set once Miniflare is up
let served = 0; // requests answered by workerd (Miniflare), for the memory-per-request figure

/** One HTTP request over a keep-alive agent; returns status, parsed JSON body and round-trip ms. */
function request(base, method, path, { headers = {}, body, host, agent } = {}) {
  const payload = body === undefined ? undefined : typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      new URL(path, base),
      {
        method,
        agent: agent ?? client.agent,
        headers: {
          ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...(host ? { host } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const ms = performance.now() - started;
          if (base === client.base) served++;
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, json, text, ms });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------
// Runtime process (workerd): memory and CPU, read from /proc

function listProcesses() {
  const out = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      out.push({ pid: Number(entry), comm, ppid: Number(fields[1]), utime: Number(fields[11]), stime: Number(fields[12]) });
    } catch {
      // The process went away.
    }
  }
  return out;
}

/** workerd processes descending from this Node process (Miniflare spawns one). */
function findWorkerdPids() {
  const processes = listProcesses();
  const children = new Map();
  for (const p of processes) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const found = [];
  const queue = [process.pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()) ?? []) {
      if (child.comm === "workerd") found.push(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) used so far by the given pids. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

// ---------------------------------------------------------------------------------------------
// Teams: Pro teams whose keys the load rotates through, so the rate limiter stays on but never refuses.

class TeamPool {
  constructor() {
    this.teams = [];
    this.cursor = 0;
  }
  add(team) {
    team.uses = [];
    this.teams.push(team);
  }
  free(team, at) {
    const cutoff = at - TEAM_WINDOW_MS;
    while (team.uses.length > 0 && team.uses[0] < cutoff) team.uses.shift();
    return TEAM_BUDGET - team.uses.length;
  }
  capacity() {
    const at = now();
    return this.teams.reduce((sum, t) => sum + Math.max(0, this.free(t, at)), 0);
  }
  /** The next team (round robin) with budget left in its window; counts one use. */
  pick() {
    const at = now();
    for (let i = 0; i < this.teams.length; i++) {
      const team = this.teams[this.cursor++ % this.teams.length];
      if (this.free(team, at) > 0) {
        team.uses.push(at);
        return team;
      }
    }
    this.exhausted = (this.exhausted ?? 0) + 1;
    const team = this.teams[this.cursor++ % this.teams.length];
    team.uses.push(at);
    return team; // will be 429'd and reported as non-2xx
  }
}

// ---------------------------------------------------------------------------------------------
// Load runs (autocannon, in this process)

async function cannon(base, { method = "GET", path, setup, connections = CONNECTIONS, duration }) {
  const statuses = {};
  const latencies = [];
  let errors = 0;
  const pids = client.workerdPids;
  const cpuBefore = { workerd: cpuSeconds(pids), node: process.cpuUsage() };
  const started = performance.now();
  const result = await new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        pipelining: 1,
        duration,
        timeout: 30,
        requests: [{ method, path, headers: { "content-type": "application/json" }, ...(setup ? { setupRequest: setup } : {}) }],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latencies.push(responseTime);
    });
    instance.on("reqError", () => errors++);
  });
  const elapsed = (performance.now() - started) / 1000;
  if (base === client.base) served += latencies.length;
  const nodeCpu = process.cpuUsage(cpuBefore.node);
  const total = latencies.length;
  const ok = Object.entries(statuses).reduce((s, [code, n]) => s + (code >= 200 && code < 300 ? n : 0), 0);
  const lat = summarize(latencies);
  return {
    requests: total,
    rps: total / elapsed,
    seconds: elapsed,
    p50: lat.p50,
    p99: lat.p99,
    mean: lat.mean,
    non2xx: total - ok,
    errors: errors + (result.errors ?? 0),
    timeouts: result.timeouts ?? 0,
    statuses,
    workerdCpuPercent: ((cpuSeconds(pids) - cpuBefore.workerd) / elapsed) * 100,
    loadgenCpuPercent: ((nodeCpu.user + nodeCpu.system) / 1e6 / elapsed) * 100,
  };
}

/** Warmup, then (after `beforeMeasure(warmup)`) the measured run. */
async function loadRun(base, spec, beforeMeasure) {
  const warmup = await cannon(base, { ...spec, duration: WARMUP });
  if (beforeMeasure) await beforeMeasure(warmup);
  const result = await cannon(base, { ...spec, duration: DURATION });
  result.warmup = { requests: warmup.requests, rps: warmup.rps, non2xx: warmup.non2xx, errors: warmup.errors };
  return result;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = new Date();
  const benchStarted = performance.now();
  const log = (message) => process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);

  // Versions and machine.
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
    } catch {
      return "unknown";
    }
  };
  const wranglerToml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wranglerToml)?.[1] ?? "2026-04-20";
  const meta = {
    timestamp: startedAt.toISOString(),
    runtime: {
      driver: "Miniflare API (new Miniflare({...}), HTTP into its entry worker), not wrangler dev",
      miniflare: pkg("miniflare"),
      workerd: pkg("workerd"),
      compatibilityDate,
      bundler: `esbuild ${pkg("esbuild")} (conditions workerd/worker/browser, as wrangler)`,
      storage: "ephemeral (Miniflare temp dir, removed on dispose)",
    },
    loadGenerator: {
      tool: `autocannon ${pkg("autocannon")} (programmatic, in the bench's Node process)`,
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: WARMUP,
      durationSeconds: DURATION,
      why: `${CONNECTIONS} connections: enough to keep workerd busy, few enough that the load generator does not starve it of CPU on ${os.cpus().length} cores`,
    },
    machine: { nproc: os.availableParallelism?.() ?? os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", node: process.version, os: `${os.type()} ${os.release()}` },
  };

  // 1. Bundle the Worker and the bench Worker.
  const outDir = mkdtempSync(join(os.tmpdir(), "token-vault-bench-"));
  const common = {
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    absWorkingDir: ROOT,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  };
  await build({ ...common, entryPoints: ["src/index.ts"], outfile: join(outDir, "index.js") });
  await build({ ...common, entryPoints: ["bench/resolve-worker.ts"], outfile: join(outDir, "resolve-worker.js") });
  log(`bundled src/index.ts and bench/resolve-worker.ts into ${outDir}`);
  const git = (...args) => {
    try {
      return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  meta.source = {
    commit: git("rev-parse", "--short", "HEAD") || "unknown",
    srcModified: git("status", "--porcelain", "--", "src", "schema.sql", "wrangler.toml") !== "",
    bundleSha256: createHash("sha256").update(readFileSync(join(outDir, "index.js"))).digest("hex").slice(0, 16),
  };

  // 2. The target server (child process).
  const target = fork(join(ROOT, "bench", "target.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const targetPort = await new Promise((resolve, reject) => {
    target.once("message", (m) => resolve(m.port));
    target.once("error", reject);
  });
  const targetBase = `http://127.0.0.1:${targetPort}`;
  const targetReport = () =>
    new Promise((resolve) => {
      target.once("message", (m) => resolve(m.hits));
      target.send("report");
    });

  // 3. Miniflare with wrangler.toml's bindings.
  const bindings = {
    VAULT_MASTER_KEY: randomBytes(32).toString("hex"),
    ADMIN_TOKEN: `tvadm_${randomBytes(32).toString("hex")}`,
    JWT_SECRET: randomBytes(32).toString("hex"),
    API_KEY_SECRET: randomBytes(32).toString("hex"),
    ALLOW_PRIVATE_TARGETS: "true",
  };
  const runtimeErrors = [];
  const mf = new Miniflare({
    log: new Log(LogLevel.WARN),
    cf: false,
    logRequests: false,
    // The Worker's one-line JSON logs are part of its hot path; their output is discarded here.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.on("data", (chunk) => {
        const text = chunk.toString();
        if (/error/i.test(text)) runtimeErrors.push(text.slice(0, 500));
      });
    },
    workers: [
      {
        name: "token-vault",
        modules: true,
        modulesRoot: outDir,
        scriptPath: join(outDir, "index.js"),
        compatibilityDate,
        bindings,
        d1Databases: { DB: "token-vault" },
        durableObjects: { TEAM_GATE: { className: "TeamGate", useSQLite: true }, LOGIN_THROTTLE: { className: "LoginThrottle", useSQLite: true } },
        queueProducers: { TASKS: { queueName: "token-vault-tasks" } },
        queueConsumers: {
          "token-vault-tasks": { maxBatchSize: 10, maxBatchTimeout: 1, maxRetries: 10, deadLetterQueue: "token-vault-tasks-dlq" },
          "token-vault-tasks-dlq": { maxBatchSize: 10, maxBatchTimeout: 5 },
        },
      },
      {
        name: "bench",
        modules: true,
        modulesRoot: outDir,
        scriptPath: join(outDir, "resolve-worker.js"),
        compatibilityDate,
        routes: [`${BENCH_HOST}/*`],
        bindings,
        d1Databases: { DB: "token-vault" },
        durableObjects: { TEAM_GATE: { className: "TeamGate", scriptName: "token-vault", useSQLite: true } },
      },
    ],
  });

  const memory = { samples: [] };
  let sampler;
  const cleanups = [];
  const cleanup = async () => {
    clearInterval(sampler);
    for (const fn of cleanups.splice(0)) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  };
  cleanups.push(() => client?.agent.destroy());
  cleanups.push(() => mf.dispose());
  cleanups.push(() => {
    target.disconnect();
    target.kill();
  });
  cleanups.push(() => rmSync(outDir, { recursive: true, force: true }));
  // Ctrl-C / SIGTERM: stop at once (Miniflare's dispose can wait behind a running load), ending only
  // the processes this run started, by pid, and removing its temporary bundle directory.
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[bench] ${signal}: stopping\n`);
    clearInterval(sampler);
    for (const pid of client?.workerdPids ?? []) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      target.kill();
    } catch {
      // already gone
    }
    rmSync(outDir, { recursive: true, force: true });
    process.exit(130);
  };
  // Prepended: Miniflare's own exit hook also listens and exits at once, which would leave outDir behind.
  for (const signal of ["SIGINT", "SIGTERM"]) process.prependListener(signal, () => stop(signal));

  const rows = [];
  const row = (section, figure, value, unit, ratio, baseline, extra = {}) => rows.push({ section, figure, value, unit, ratio, baseline, ...extra });
  const raw = {};

  try {
    const base = (await mf.ready).href;
    client = { base, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }), workerdPids: findWorkerdPids() };
    if (client.workerdPids.length === 0) throw new Error("could not find the workerd process under this Node process");
    // Anything else busy on this machine skews every figure: note other workerd/vitest/wrangler processes.
    const others = listProcesses().filter((p) => ["workerd", "vitest", "wrangler"].some((name) => p.comm.includes(name)) && !client.workerdPids.includes(p.pid));
    meta.machine.loadAverageAtStart = os.loadavg().map((x) => Number(x.toFixed(2)));
    meta.machine.otherRuntimeProcessesAtStart = others.length;
    if (others.length > 0) log(`WARNING: ${others.length} other workerd/vitest/wrangler processes are running; figures will be skewed`);
    log(`Miniflare ready at ${base} (workerd pid ${client.workerdPids.join(", ")})`);

    const db = await mf.getD1Database("DB");
    const statements = schemaStatements(readFileSync(join(ROOT, "schema.sql"), "utf8"));
    for (const sql of statements) await db.prepare(sql).run();
    log(`applied ${statements.length} schema.sql statements`);

    const sample = () => {
      for (const pid of client.workerdPids) memory.samples.push({ at: Date.now(), pid, rssKb: statusKb(pid, "VmRSS") });
    };
    memory.phases = [];
    const phase = (name) => memory.phases.push({ after: name, rssMiB: client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmRSS"), 0) / 1024 });
    sample();
    memory.idleRssKb = client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmRSS"), 0);
    sampler = setInterval(sample, 250);
    sampler.unref();

    const admin = { authorization: `Bearer ${bindings.ADMIN_TOKEN}` };
    const createTeam = async (plan, name) => {
      const res = await request(base, "POST", "/admin/teams", { headers: admin, body: { name, plan } });
      if (res.status !== 201) throw new Error(`POST /admin/teams answered ${res.status}: ${res.text}`);
      return { id: res.json.team.id, key: res.json.key, plan };
    };
    const createToken = async (team, name) => {
      const res = await request(base, "POST", "/v1/tokens", {
        headers: { authorization: `Bearer ${team.key}` },
        body: { name, value: `sk_bench_${randomBytes(24).toString("hex")}` },
      });
      if (res.status !== 201) throw new Error(`POST /v1/tokens answered ${res.status}: ${res.text}`);
      return res.json.token.id;
    };

    // Pro teams, each with two tokens; task bodies reference them.
    const pool = new TeamPool();
    const taskBody = (team, tag, extra = {}) =>
      JSON.stringify({
        targetUrl: `${targetBase}/hit/${tag}`,
        method: "POST",
        headers: { Authorization: `Bearer ${team.tokens[0]}`, "X-Api-Key": team.tokens[1], "Content-Type": "application/json" },
        body: '{"prompt":"a beautiful sunset over mountains"}',
        ...extra,
      });
    const growPool = async (count) => {
      const created = await mapLimit(Array.from({ length: count }), 8, async (_, i) => {
        const team = await createTeam("pro", `bench pro ${pool.teams.length + i}`);
        team.tokens = [await createToken(team, "bench A"), await createToken(team, "bench B")];
        team.bodies = {
          token: Buffer.from(JSON.stringify({ name: "bench token", value: `sk_bench_${randomBytes(24).toString("hex")}` })),
          task: Buffer.from(taskBody(team, "create-bench", { delay: 3600 })),
        };
        return team;
      });
      for (const team of created) {
        pool.add(team);
        team.uses.push(now(), now()); // the two token creations
      }
    };
    await growPool(24);
    log(`created ${pool.teams.length} Pro teams with 2 tokens each`);
    phase("setup");

    // Makes sure the pool can take `seconds` of load at `rps` without any key reaching its limit.
    const ensureCapacity = async (rps, seconds) => {
      const needed = Math.ceil(rps * seconds * 1.3) + 1000;
      const missing = needed - pool.capacity();
      if (missing > 0) await growPool(Math.ceil(missing / TEAM_BUDGET));
    };
    const rotating = (bodyName) => (req) => {
      const team = pool.pick();
      return { ...req, headers: { ...req.headers, authorization: `Bearer ${team.key}` }, ...(bodyName ? { body: team.bodies[bodyName] } : {}) };
    };

    // ---- 1. Ceiling -----------------------------------------------------------------------
    log("1. ceiling: GET /healthz");
    const ceiling = await loadRun(base, { path: "/healthz" });
    raw.ceiling = ceiling;
    row("1. Ceiling", "GET /healthz req/s", ceiling.rps, "req/s", 1, "itself", { non2xx: ceiling.non2xx });
    row("1. Ceiling", "GET /healthz p50", ceiling.p50, "ms", 1, "itself");
    row("1. Ceiling", "GET /healthz p99", ceiling.p99, "ms", 1, "itself");
    const cpuPerRequest = (r) => (r.workerdCpuPercent / 100 / r.rps) * 1000;
    row("1. Ceiling", "GET /healthz workerd CPU per request", cpuPerRequest(ceiling), "ms", 1, "itself");
    phase("1. ceiling");

    // ---- 2. Authenticated routes (rate limiter on, Pro keys rotated) -----------------------
    const routes = [
      { name: "GET /v1/tokens", method: "GET", path: "/v1/tokens", setup: rotating() },
      { name: "POST /v1/tokens", method: "POST", path: "/v1/tokens", setup: rotating("token") },
      { name: "POST /v1/tasks (2 refs, delay 3600)", method: "POST", path: "/v1/tasks", setup: rotating("task") },
    ];
    raw.routes = {};
    for (const route of routes) {
      log(`2. ${route.name}`);
      // Enough keys for a warmup at the ceiling's rate, then for the measured run at 1.5x the warmup's.
      await ensureCapacity(ceiling.rps, WARMUP);
      const exhaustedBefore = pool.exhausted ?? 0;
      const result = await loadRun(base, route, (warmup) => ensureCapacity(warmup.rps * 1.5, DURATION + 1));
      result.poolExhausted = (pool.exhausted ?? 0) - exhaustedBefore;
      raw.routes[route.name] = result;
      row("2. Authenticated", `${route.name} req/s`, result.rps, "req/s", result.rps / ceiling.rps, "ceiling req/s", { non2xx: result.non2xx });
      row("2. Authenticated", `${route.name} p50`, result.p50, "ms", result.p50 / ceiling.p50, "ceiling p50");
      row("2. Authenticated", `${route.name} p99`, result.p99, "ms", result.p99 / ceiling.p99, "ceiling p99");
      row("2. Authenticated", `${route.name} workerd CPU per request`, cpuPerRequest(result), "ms", cpuPerRequest(result) / cpuPerRequest(ceiling), "ceiling CPU per request");
      row("2. Authenticated", `${route.name} non-2xx`, result.non2xx, "responses", result.requests ? result.non2xx / result.requests : 0, "of all responses");
    }
    raw.teams = pool.teams.length;
    phase("2. authenticated");

    // ---- 3. Vault resolution (bench Worker, same D1) ----------------------------------------
    log("3. vault resolution via the bench Worker");
    const resolveTeam = await createTeam("pro", "bench resolve");
    const resolveTokens = await mapLimit(Array.from({ length: 10 }), 4, (_, i) => createToken(resolveTeam, `resolve ${i}`));
    const benchGet = (path, headers = {}) => request(base, "GET", path, { host: BENCH_HOST, headers });
    /** Sequential round trips from Node, the paths interleaved so they all see the same conditions. */
    const interleaved = async (paths, n = SAMPLES, headers = {}) => {
      const rtt = paths.map(() => []);
      for (let i = -30; i < n; i++) {
        for (let j = 0; j < paths.length; j++) {
          const res = await benchGet(paths[j], headers);
          if (res.status !== 200) throw new Error(`bench ${paths[j]} answered ${res.status}: ${res.text}`);
          if (i >= 0) rtt[j].push(res.ms);
        }
      }
      return rtt.map(summarize);
    };
    /** Median over chunks of LOOP_CHUNK calls of the per-call mean, timed inside the Worker. */
    const inWorker = async (query, calls = LOOP_CALLS, headers = {}) => {
      await benchGet(`/loop?${query}&n=${LOOP_CHUNK}&chunk=${LOOP_CHUNK}`, headers);
      const res = await benchGet(`/loop?${query}&n=${calls}&chunk=${LOOP_CHUNK}`, headers);
      if (res.status !== 200) throw new Error(`bench loop ${query} answered ${res.status}: ${res.text}`);
      return summarize(res.json.chunks).p50;
    };
    const refCounts = [0, 1, 3, 10];
    const refQuery = (refs) => `team=${resolveTeam.id}&ids=${resolveTokens.slice(0, refs).join(",")}`;
    const [noop, d1, ...resolveRtt] = await interleaved(["/noop", `/d1?id=${resolveTokens[0]}`, ...refCounts.map((k) => `/resolve?${refQuery(k)}`)]);
    const noopInWorker = await inWorker("op=noop");
    const d1InWorker = await inWorker(`op=d1&id=${resolveTokens[0]}`);
    raw.resolution = { noop, noopInWorker, d1, d1InWorker, byRefs: {} };
    row("3. Vault resolution", "bench Worker no-op round trip p50", noop.p50, "ms", 1, "itself");
    row("3. Vault resolution", "one D1 query (PK lookup) round trip p50", d1.p50, "ms", d1.p50 / noop.p50, "no-op round trip p50");
    row("3. Vault resolution", "one D1 query in-Worker", d1InWorker, "ms", 1, "itself (the D1 unit)");
    const byRefs = {};
    for (const [i, refs] of refCounts.entries()) {
      const rtt = resolveRtt[i];
      const worker = await inWorker(`op=resolve&${refQuery(refs)}`);
      byRefs[refs] = { rtt, inWorker: worker };
      row("3. Vault resolution", `resolve ${refs} refs round trip p50`, rtt.p50, "ms", rtt.p50 / noop.p50, "no-op round trip p50");
      row("3. Vault resolution", `resolve ${refs} refs round trip p99`, rtt.p99, "ms", rtt.p99 / noop.p99, "no-op round trip p99");
      row("3. Vault resolution", `resolve ${refs} refs in-Worker`, worker, "ms", worker / d1InWorker, "one D1 query in-Worker");
    }
    raw.resolution.byRefs = byRefs;
    phase("3. resolution");
    const perRefRtt = (byRefs[10].rtt.p50 - byRefs[1].rtt.p50) / 9;
    const perRefWorker = (byRefs[10].inWorker - byRefs[1].inWorker) / 9;
    row("3. Vault resolution", "per extra reference (p50(10)-p50(1))/9, round trip", perRefRtt, "ms", perRefRtt / (d1.p50 - noop.p50), "one D1 query (round trip p50 - no-op p50)");
    row("3. Vault resolution", "per extra reference, in-Worker (10 refs - 1 ref)/9", perRefWorker, "ms", perRefWorker / d1InWorker, "one D1 query in-Worker");

    // ---- 4. End to end: queue drain against the local target --------------------------------
    log("4. target ceiling");
    const targetCeiling = await loadRun(targetBase, { path: "/ok" });
    raw.targetCeiling = targetCeiling;
    /**
     * Creates `count` tasks (two references each, no delay) either as fast as `concurrency`
     * allows or paced at `rate` per second, waits until the target saw them all and D1 holds
     * their outcome, and measures drain rate and dispatch latency.
     */
    const endToEnd = async ({ prefix, count, concurrency, rate }) => {
      await ensureCapacity(count, 1);
      const created = new Map();
      const create = async (i) => {
        const team = pool.pick();
        const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: taskBody(team, `${prefix}-${i}`) });
        if (res.status === 201) created.set(`${prefix}-${i}`, { at: Date.parse(res.json.task.createdAt), id: res.json.task.id });
        return res.status;
      };
      const createStarted = now();
      let createdResults;
      if (rate) {
        const pending = [];
        for (let i = 0; i < count; i++) {
          const wait = createStarted + (i * 1000) / rate - now();
          if (wait > 0) await sleep(wait);
          pending.push(create(i));
        }
        createdResults = await Promise.all(pending);
      } else {
        createdResults = await mapLimit(Array.from({ length: count }), concurrency, (_, i) => create(i));
      }
      const createEnded = now();
      const createFailures = createdResults.filter((status) => status !== 201).length;
      let hits = [];
      const deadline = now() + 120_000;
      for (;;) {
        hits = (await targetReport()).filter(([tag]) => tag.startsWith(`${prefix}-`));
        if (new Set(hits.map(([tag]) => tag)).size >= created.size || now() > deadline) break;
        await sleep(50);
      }
      const firstHit = new Map();
      for (const [tag, at] of hits) if (!firstHit.has(tag)) firstHit.set(tag, at);
      const dispatch = summarize([...firstHit].map(([tag, at]) => at - (created.get(tag)?.at ?? at)));
      const firstCreated = Math.min(...[...created.values()].map((c) => c.at));
      const lastHit = Math.max(...firstHit.values());
      const drainSeconds = (lastHit - firstCreated) / 1000;
      // Wait until the consumer has also recorded every outcome in D1, and read its claim times.
      const ids = [...created.values()].map((c) => c.id);
      const readRows = async () => {
        const rows = [];
        for (let i = 0; i < ids.length; i += 90) {
          const chunk = ids.slice(i, i + 90);
          const { results } = await db
            .prepare(`SELECT id, status, started_at, completed_at FROM tasks WHERE id IN (${chunk.map(() => "?").join(",")})`)
            .bind(...chunk)
            .all();
          rows.push(...results);
        }
        return rows;
      };
      let taskRows = [];
      for (let attempt = 0; attempt < 100; attempt++) {
        taskRows = await readRows();
        if (taskRows.filter((r) => ["completed", "failed", "timeout"].includes(r.status)).length >= ids.length) break;
        await sleep(100);
      }
      const statuses = {};
      for (const r of taskRows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      // Where the dispatch time goes: the consumer's claim (started_at) splits queue wait from consumer work.
      const timeline = new Map(taskRows.map((r) => [r.id, { started: Date.parse(r.started_at), completed: Date.parse(r.completed_at) }]));
      const queueWait = [];
      const claimToHit = [];
      const hitToDone = [];
      for (const [tag, c] of created) {
        const t = timeline.get(c.id);
        const hit = firstHit.get(tag);
        if (!t || hit === undefined) continue;
        queueWait.push(t.started - c.at);
        claimToHit.push(hit - t.started);
        if (Number.isFinite(t.completed)) hitToDone.push(t.completed - hit);
      }
      const hitTimes = [...firstHit.values()].sort((a, b) => a - b);
      const steadyRate = hitTimes.length >= 10 ? (0.8 * hitTimes.length) / ((hitTimes[Math.floor(hitTimes.length * 0.9) - 1] - hitTimes[Math.floor(hitTimes.length * 0.1)]) / 1000) : NaN;
      return {
        tasks: count,
        mode: rate ? `paced at ${rate}/s` : `as fast as ${concurrency} concurrent requests allow`,
        created: created.size,
        createFailures,
        createSeconds: (createEnded - createStarted) / 1000,
        createRate: created.size / ((createEnded - createStarted) / 1000),
        targetHits: hits.length,
        uniqueHits: firstHit.size,
        duplicateHits: hits.length - firstHit.size,
        drainSeconds,
        drainRate: firstHit.size / drainSeconds,
        steadyRate,
        dispatch,
        breakdown: { queueWait: summarize(queueWait), claimToHit: summarize(claimToHit), hitToCompleted: summarize(hitToDone) },
        finalStatuses: statuses,
      };
    };

    log(`4. end to end: ${E2E_TASKS} tasks with 2 refs each, no delay, ${E2E_CREATE_CONCURRENCY} concurrent creations`);
    target.send("reset");
    const e2e = await endToEnd({ prefix: "e2e", count: E2E_TASKS, concurrency: E2E_CREATE_CONCURRENCY });
    phase("4. end to end (burst)");
    log(`4. end to end: ${PACED_TASKS} tasks paced at ${PACED_RATE}/s`);
    const paced = await endToEnd({ prefix: "paced", count: PACED_TASKS, rate: PACED_RATE });
    phase("4. end to end (paced)");
    raw.endToEnd = e2e;
    raw.endToEndPaced = paced;
    const { dispatch, breakdown } = e2e;
    row("4. End to end", "target ceiling (autocannon at the target) req/s", targetCeiling.rps, "req/s", 1, "itself");
    row("4. End to end", "target p50", targetCeiling.p50, "ms", 1, "itself");
    row("4. End to end", `burst: tasks drained/s (${e2e.uniqueHits}/${E2E_TASKS}, first create -> last hit)`, e2e.drainRate, "tasks/s", e2e.drainRate / targetCeiling.rps, "target ceiling req/s");
    row("4. End to end", "burst: dispatch latency p50 (created -> target hit)", dispatch.p50, "ms", dispatch.p50 / targetCeiling.p50, "target p50");
    row("4. End to end", "burst: dispatch latency p99", dispatch.p99, "ms", dispatch.p99 / targetCeiling.p99, "target p99");
    row("4. End to end", "  of which queue wait p50 (created -> claimed)", breakdown.queueWait.p50, "ms", breakdown.queueWait.p50 / dispatch.p50, "dispatch p50");
    row("4. End to end", "  of which consumer p50 (claimed -> target hit)", breakdown.claimToHit.p50, "ms", breakdown.claimToHit.p50 / dispatch.p50, "dispatch p50");
    row("4. End to end", "burst: consumer after the call p50 (hit -> completed)", breakdown.hitToCompleted.p50, "ms", breakdown.hitToCompleted.p50 / dispatch.p50, "dispatch p50");
    row("4. End to end", "burst: tasks completed in D1", e2e.finalStatuses.completed ?? 0, "tasks", (e2e.finalStatuses.completed ?? 0) / E2E_TASKS, "tasks created");
    row("4. End to end", `paced ${PACED_RATE}/s: dispatch latency p50`, paced.dispatch.p50, "ms", paced.dispatch.p50 / targetCeiling.p50, "target p50");
    row("4. End to end", `paced ${PACED_RATE}/s: dispatch latency p99`, paced.dispatch.p99, "ms", paced.dispatch.p99 / targetCeiling.p99, "target p99");
    row("4. End to end", `paced ${PACED_RATE}/s: consumer p50 (claimed -> target hit)`, paced.breakdown.claimToHit.p50, "ms", paced.breakdown.claimToHit.p50 / paced.dispatch.p50, "paced dispatch p50");

    // ---- 5. Rate limiter ---------------------------------------------------------------------
    log(`5. rate limiter: ${RATE_ACCURACY_REQUESTS} concurrent requests at a fresh Free team`);
    const freeTeam = await createTeam("free", "bench free");
    const burstAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const burst = await Promise.all(
      Array.from({ length: RATE_ACCURACY_REQUESTS }, () =>
        request(base, "GET", "/v1/tokens", { headers: { authorization: `Bearer ${freeTeam.key}` }, agent: burstAgent }).then(
          (r) => r.status,
          () => "error",
        ),
      ),
    );
    burstAgent.destroy();
    const admitted = burst.filter((s) => s === 200).length;
    const refused = burst.filter((s) => s === 429).length;
    const other = burst.length - admitted - refused;
    const rlKey = `bench-rl-${randomBytes(6).toString("hex")}`;
    const [rlNoop, rl, rlRefused] = await interleaved(["/noop", `/rl?team=${rlKey}&limit=1000000000`, `/rl?team=${rlKey}-0&limit=0&expect=refused`]);
    const rlInWorker = await inWorker(`op=rl&team=${rlKey}&limit=1000000000`);
    const rlRefusedInWorker = await inWorker(`op=rl&team=${rlKey}-0&limit=0&expect=refused`);
    // The request path's gate (API key authenticated by the team's DO from its cache + rate limit,
    // one RPC). Each key is counted against its Pro limit (600/min), so the round trips and the
    // in-Worker loop use a team each and stay under it.
    const gateSamples = Math.min(SAMPLES, 500);
    const [gateTeamA, gateTeamB] = [await createTeam("pro", "bench gate A"), await createTeam("pro", "bench gate B")];
    const [gateNoop, gate] = await interleaved(["/noop", "/gate"], gateSamples, { authorization: `Bearer ${gateTeamA.key}` });
    const gateInWorker = await inWorker("op=gate", 500, { authorization: `Bearer ${gateTeamB.key}` });
    raw.rateLimiter = { requests: RATE_ACCURACY_REQUESTS, admitted, refused, other, limit: FREE_LIMIT, rl, rlInWorker, noop: rlNoop, rlRefused, rlRefusedInWorker, gate, gateNoop, gateInWorker };
    row("5. Rate limiter", `admitted of ${RATE_ACCURACY_REQUESTS} concurrent (Free, limit ${FREE_LIMIT})`, admitted, "requests", admitted / FREE_LIMIT, "the limit (must be 1.00)", { refused, other });
    row("5. Rate limiter", "API-key gate (auth + limit, 1 DO RPC): round trip p50 - no-op p50", gate.p50 - gateNoop.p50, "ms", (gate.p50 - gateNoop.p50) / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "API-key gate in-Worker (authenticateApiKey())", gateInWorker, "ms", gateInWorker / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "plain limiter consume(): round trip p50 - no-op p50", rl.p50 - rlNoop.p50, "ms", (rl.p50 - rlNoop.p50) / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "plain limiter consume() in-Worker (DO RPC + SQLite insert)", rlInWorker, "ms", rlInWorker / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "  refused consume() (RPC, no write): round trip p50 - no-op p50", rlRefused.p50 - rlNoop.p50, "ms", (rlRefused.p50 - rlNoop.p50) / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "  refused consume() (RPC, no write) in-Worker", rlRefusedInWorker, "ms", rlRefusedInWorker / d1InWorker, "one D1 query in-Worker");

    // ---- 6. Memory ---------------------------------------------------------------------------
    phase("5. rate limiter");
    sample();
    const peakRssKb = Math.max(...memory.samples.map((s) => s.rssKb).filter(Number.isFinite));
    const hwmKb = client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmHWM"), 0);
    raw.memory = { idleRssKb: memory.idleRssKb, peakSampledRssKb: peakRssKb, vmHwmKb: hwmKb, samples: memory.samples.length, phases: memory.phases, requestsServed: served };
    row("6. Memory (workerd)", "RSS after start (idle, schema applied)", memory.idleRssKb / 1024, "MiB", 1, "itself");
    row("6. Memory (workerd)", "peak RSS sampled every 250 ms", peakRssKb / 1024, "MiB", peakRssKb / memory.idleRssKb, "idle RSS");
    row("6. Memory (workerd)", "VmHWM at the end (kernel peak)", hwmKb / 1024, "MiB", hwmKb / memory.idleRssKb, "idle RSS");
    row("6. Memory (workerd)", `peak growth per request served (${served} requests)`, (hwmKb - memory.idleRssKb) / served, "KiB", NaN, "-");

    meta.totalSeconds = (performance.now() - benchStarted) / 1000;
    meta.machine.loadAverageAtEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
    meta.teams = { pro: pool.teams.length + 1, free: 1, poolExhausted: pool.exhausted ?? 0 };
    if (runtimeErrors.length > 0) meta.runtimeErrors = runtimeErrors.slice(0, 10);
    report(meta, rows, raw);
    writeFileSync(RESULTS_FILE, JSON.stringify({ meta, results: rows, raw }, null, 2) + "\n");
    log(`wrote ${RESULTS_FILE}`);

    const problems = [];
    for (const [name, r] of Object.entries(raw.routes)) {
      if (r.non2xx > 0 || r.errors > 0) problems.push(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
      if (r.warmup.non2xx > 0 || r.warmup.errors > 0) problems.push(`${name} warmup: ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors`);
    }
    if (ceiling.non2xx > 0) problems.push(`GET /healthz: ${ceiling.non2xx} non-2xx`);
    if (admitted !== FREE_LIMIT || other > 0) problems.push(`rate limiter admitted ${admitted} of ${RATE_ACCURACY_REQUESTS} (limit ${FREE_LIMIT}), ${other} neither 200 nor 429`);
    for (const run of [raw.endToEnd, raw.endToEndPaced]) {
      if (run.uniqueHits < run.tasks || run.createFailures > 0 || (run.finalStatuses.completed ?? 0) < run.tasks) {
        problems.push(`end to end (${run.mode}): ${run.uniqueHits}/${run.tasks} tasks reached the target, ${run.createFailures} creations failed, D1 statuses ${JSON.stringify(run.finalStatuses)}`);
      }
    }
    if (problems.length > 0) {
      console.log(`\nCHECKS FAILED:\n  ${problems.join("\n  ")}`);
      process.exitCode = 1;
    } else {
      console.log("\nChecks: 0 non-2xx on every load run, rate limiter exact, every task reached the target.");
    }
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function fmt(value, unit) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (unit === "req/s" || unit === "tasks/s") return `${value.toFixed(0)} ${unit}`;
  if (unit === "ms") return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
  if (unit === "KiB") return `${value.toFixed(1)} KiB`;
  if (unit === "MiB") return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} MiB`;
  return `${Math.round(value)} ${unit}`;
}

function report(meta, rows, raw) {
  const lines = [];
  lines.push("");
  lines.push(`Token Vault benchmark, ${meta.timestamp}`);
  lines.push(`Runtime:  ${meta.runtime.driver}; miniflare ${meta.runtime.miniflare}, workerd ${meta.runtime.workerd}, compatibility_date ${meta.runtime.compatibilityDate}; storage ${meta.runtime.storage}`);
  lines.push(`Bundle:   ${meta.runtime.bundler}`);
  lines.push(`Load:     ${meta.loadGenerator.tool}; ${meta.loadGenerator.connections} connections, pipelining 1, ${meta.loadGenerator.warmupSeconds} s warmup + ${meta.loadGenerator.durationSeconds} s measured per run`);
  lines.push(`Source:   commit ${meta.source.commit}${meta.source.srcModified ? " + uncommitted changes in src/" : ""}, Worker bundle sha256 ${meta.source.bundleSha256}`);
  lines.push(`Machine:  ${meta.machine.nproc} CPUs (${meta.machine.cpu}), Node ${meta.machine.node}, ${meta.machine.os}; load average ${meta.machine.loadAverageAtStart.join("/")} at start`);
  if (meta.machine.otherRuntimeProcessesAtStart > 0) lines.push(`WARNING:  ${meta.machine.otherRuntimeProcessesAtStart} other workerd/vitest/wrangler processes were running at the start: figures are skewed; run on a quiet machine`);
  const notes = [
    `Rate limiter on: ${meta.teams.pro} Pro teams (600/min each), API keys rotated per request so none is refused.`,
    `Section 2's POST /v1/tasks uses delay 3600, so the queue consumer stays out of that figure (section 4 measures it).`,
    `Sections 3 and 5 use a bench-only Worker (bench/resolve-worker.ts) in the same Miniflare: same D1, same DO class.`,
    `Round trips: ${SAMPLES} sequential HTTP calls from Node per figure, interleaved with the no-op baseline's.`,
    `In-Worker: median over chunks of ${LOOP_CHUNK} calls (${LOOP_CALLS} calls) of the per-call mean; workerd's clock has 1 ms steps and moves only on I/O.`,
    `Local Miniflare Queues hand the consumer one batch (max 10 messages) at a time; a batch that is not full waits max_batch_timeout (1 s).`,
    `Observed locally: while tasks are being created back to back, the consumer gets (almost) no batch until the burst ends, so the burst's`,
    `  dispatch latency is mostly the burst's length; the paced run (${PACED_RATE} tasks/s, ${PACED_TASKS} tasks) shows dispatch latency without a backlog.`,
    `wrangler.toml's cron trigger is not scheduled (Miniflare has no cron scheduler), so the sweeper does not run during the bench.`,
  ];
  // A note starting with two spaces continues the previous one.
  notes.forEach((note, i) => lines.push(`${i === 0 ? "Notes:   " : "         "} ${note.startsWith("  ") ? "   " + note.trim() : `- ${note}`}`));
  lines.push("");
  const header = ["Figure", "Value", "Ratio", "Baseline"];
  const ratio = (x) => (!Number.isFinite(x) ? "-" : Math.abs(x) >= 100 ? `${x.toFixed(0)}x` : Math.abs(x) >= 0.1 || x === 0 ? `${x.toFixed(2)}x` : `${x.toPrecision(2)}x`);
  const table = rows.map((r) => [r.figure, fmt(r.value, r.unit), ratio(r.ratio), r.baseline]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  let section;
  lines.push(line(header));
  lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  rows.forEach((r, i) => {
    if (r.section !== section) {
      section = r.section;
      lines.push(`[${section}]`);
    }
    lines.push(line(table[i]));
  });
  lines.push("");
  lines.push("CPU during load runs (workerd % of one core / load generator % of one core):");
  const cpu = (name, r) => `  ${name.padEnd(38)} workerd ${r.workerdCpuPercent.toFixed(0).padStart(3)}%  autocannon+bench ${r.loadgenCpuPercent.toFixed(0).padStart(3)}%  (${r.requests} responses, ${r.non2xx} non-2xx, ${r.errors} errors)`;
  lines.push(cpu("GET /healthz", raw.ceiling));
  for (const [name, r] of Object.entries(raw.routes)) lines.push(cpu(name, r));
  lines.push(cpu("target /ok (Node child process)", raw.targetCeiling));
  lines.push("");
  for (const e of [raw.endToEnd, raw.endToEndPaced]) {
    lines.push(`End to end (${e.mode}): ${e.created} tasks created in ${e.createSeconds.toFixed(2)} s (${e.createRate.toFixed(0)}/s, ${e.createFailures} failed), ${e.uniqueHits} reached the target`);
    lines.push(`  (${e.duplicateHits} duplicate hits) ${e.drainSeconds.toFixed(2)} s after the first was created; drain between the 10th and 90th percentile hit ${e.steadyRate.toFixed(0)} tasks/s;`);
    lines.push(`  queue wait min/p50/max ${e.breakdown.queueWait.min}/${e.breakdown.queueWait.p50}/${e.breakdown.queueWait.max} ms; D1 statuses ${JSON.stringify(e.finalStatuses)}`);
  }
  lines.push(`Rate limiter burst: ${raw.rateLimiter.admitted} admitted, ${raw.rateLimiter.refused} refused (429), ${raw.rateLimiter.other} other`);
  lines.push(`workerd RSS after each section: ${raw.memory.phases.map((p) => `${p.after} ${p.rssMiB.toFixed(0)} MiB`).join(", ")}`);
  lines.push(`Total bench time ${meta.totalSeconds.toFixed(0)} s.`);
  console.log(lines.join("\n"));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
