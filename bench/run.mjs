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
// BENCH_SAMPLES (sequential calls per micro figure, default 300).
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
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
const E2E_CREATE_CONCURRENCY = 16;
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

/** Warmup then a measured run. */
async function loadRun(base, spec) {
  await cannon(base, { ...spec, duration: WARMUP });
  return cannon(base, { ...spec, duration: DURATION });
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
        durableObjects: { RATE_LIMITER: { className: "TeamRateLimiter", useSQLite: true } },
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
        durableObjects: { RATE_LIMITER: { className: "TeamRateLimiter", scriptName: "token-vault", useSQLite: true } },
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
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      cleanup().finally(() => process.exit(130));
    });
  }

  const rows = [];
  const row = (section, figure, value, unit, ratio, baseline, extra = {}) => rows.push({ section, figure, value, unit, ratio, baseline, ...extra });
  const raw = {};

  try {
    const base = (await mf.ready).href;
    client = { agent: new http.Agent({ keepAlive: true, maxSockets: 64 }), workerdPids: findWorkerdPids() };
    if (client.workerdPids.length === 0) throw new Error("could not find the workerd process under this Node process");
    log(`Miniflare ready at ${base} (workerd pid ${client.workerdPids.join(", ")})`);

    const db = await mf.getD1Database("DB");
    const statements = schemaStatements(readFileSync(join(ROOT, "schema.sql"), "utf8"));
    for (const sql of statements) await db.prepare(sql).run();
    log(`applied ${statements.length} schema.sql statements`);

    const sample = () => {
      for (const pid of client.workerdPids) memory.samples.push({ at: Date.now(), pid, rssKb: statusKb(pid, "VmRSS") });
    };
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

    // ---- 2. Authenticated routes (rate limiter on, Pro keys rotated) -----------------------
    const routes = [
      { name: "GET /v1/tokens", method: "GET", path: "/v1/tokens", setup: rotating() },
      { name: "POST /v1/tokens", method: "POST", path: "/v1/tokens", setup: rotating("token") },
      { name: "POST /v1/tasks (2 refs, delay 3600)", method: "POST", path: "/v1/tasks", setup: rotating("task") },
    ];
    raw.routes = {};
    for (const route of routes) {
      log(`2. ${route.name}`);
      await ensureCapacity(ceiling.rps, WARMUP + DURATION);
      const exhaustedBefore = pool.exhausted ?? 0;
      const result = await loadRun(base, route);
      result.poolExhausted = (pool.exhausted ?? 0) - exhaustedBefore;
      raw.routes[route.name] = result;
      row("2. Authenticated", `${route.name} req/s`, result.rps, "req/s", result.rps / ceiling.rps, "ceiling req/s", { non2xx: result.non2xx });
      row("2. Authenticated", `${route.name} p50`, result.p50, "ms", result.p50 / ceiling.p50, "ceiling p50");
      row("2. Authenticated", `${route.name} p99`, result.p99, "ms", result.p99 / ceiling.p99, "ceiling p99");
      row("2. Authenticated", `${route.name} non-2xx`, result.non2xx, "responses", result.requests ? result.non2xx / result.requests : 0, "of all responses");
    }
    raw.teams = pool.teams.length;

    // ---- 3. Vault resolution (bench Worker, same D1) ----------------------------------------
    log("3. vault resolution via the bench Worker");
    const resolveTeam = await createTeam("pro", "bench resolve");
    const resolveTokens = await mapLimit(Array.from({ length: 10 }), 4, (_, i) => createToken(resolveTeam, `resolve ${i}`));
    const benchGet = (path) => request(base, "GET", path, { host: BENCH_HOST });
    const sequential = async (path, n = SAMPLES) => {
      for (let i = 0; i < Math.min(30, n); i++) {
        const res = await benchGet(path);
        if (res.status !== 200) throw new Error(`bench ${path} answered ${res.status}: ${res.text}`);
      }
      const rtt = [];
      for (let i = 0; i < n; i++) {
        const res = await benchGet(path);
        if (res.status !== 200) throw new Error(`bench ${path} answered ${res.status}: ${res.text}`);
        rtt.push(res.ms);
      }
      return summarize(rtt);
    };
    const inWorker = async (query, n = SAMPLES) => {
      await benchGet(`/loop?${query}&n=20`);
      const res = await benchGet(`/loop?${query}&n=${n}`);
      if (res.status !== 200) throw new Error(`bench loop ${query} answered ${res.status}: ${res.text}`);
      return res.json.ms / n;
    };
    const noop = await sequential("/noop");
    const noopInWorker = await inWorker("op=noop");
    const d1 = await sequential(`/d1?id=${resolveTokens[0]}`);
    const d1InWorker = await inWorker(`op=d1&id=${resolveTokens[0]}`);
    raw.resolution = { noop, noopInWorker, d1, d1InWorker, byRefs: {} };
    row("3. Vault resolution", "bench Worker no-op round trip p50", noop.p50, "ms", 1, "itself");
    row("3. Vault resolution", "one D1 query (PK lookup) round trip p50", d1.p50, "ms", d1.p50 / noop.p50, "no-op round trip p50");
    row("3. Vault resolution", "one D1 query in-Worker mean", d1InWorker, "ms", 1, "itself (the D1 unit)");
    const byRefs = {};
    for (const refs of [0, 1, 3, 10]) {
      const query = `team=${resolveTeam.id}&ids=${resolveTokens.slice(0, refs).join(",")}`;
      const rtt = await sequential(`/resolve?${query}`);
      const worker = await inWorker(`op=resolve&${query}`);
      byRefs[refs] = { rtt, inWorkerMean: worker };
      row("3. Vault resolution", `resolve ${refs} refs round trip p50`, rtt.p50, "ms", rtt.p50 / noop.p50, "no-op round trip p50");
      row("3. Vault resolution", `resolve ${refs} refs round trip p99`, rtt.p99, "ms", rtt.p99 / noop.p99, "no-op round trip p99");
      row("3. Vault resolution", `resolve ${refs} refs in-Worker mean`, worker, "ms", worker / d1InWorker, "one D1 query in-Worker");
    }
    raw.resolution.byRefs = byRefs;
    const perRefRtt = (byRefs[10].rtt.p50 - byRefs[1].rtt.p50) / 9;
    const perRefWorker = (byRefs[10].inWorkerMean - byRefs[1].inWorkerMean) / 9;
    row("3. Vault resolution", "per extra reference (p50(10)-p50(1))/9, round trip", perRefRtt, "ms", perRefRtt / (d1.p50 - noop.p50), "one D1 query (round trip p50 - no-op p50)");
    row("3. Vault resolution", "per extra reference, in-Worker means", perRefWorker, "ms", perRefWorker / d1InWorker, "one D1 query in-Worker");

    // ---- 4. End to end: queue drain against the local target --------------------------------
    log("4. target ceiling");
    const targetCeiling = await loadRun(targetBase, { path: "/ok" });
    raw.targetCeiling = targetCeiling;
    log(`4. end to end: ${E2E_TASKS} tasks with 2 refs each, no delay`);
    await ensureCapacity(E2E_TASKS, 1);
    target.send("reset");
    const created = new Map();
    const createStarted = now();
    const createdResults = await mapLimit(Array.from({ length: E2E_TASKS }), E2E_CREATE_CONCURRENCY, async (_, i) => {
      const team = pool.pick();
      const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: taskBody(team, `e2e-${i}`) });
      if (res.status === 201) created.set(`e2e-${i}`, { at: Date.parse(res.json.task.createdAt), id: res.json.task.id, answeredAt: now() });
      return res.status;
    });
    const createEnded = now();
    const createFailures = createdResults.filter((s) => s !== 201).length;
    let hits = [];
    const deadline = now() + 120_000;
    for (;;) {
      hits = (await targetReport()).filter(([tag]) => tag.startsWith("e2e-"));
      if (new Set(hits.map(([tag]) => tag)).size >= created.size || now() > deadline) break;
      await sleep(50);
    }
    const firstHit = new Map();
    for (const [tag, at] of hits) if (!firstHit.has(tag)) firstHit.set(tag, at);
    const dispatch = summarize([...firstHit].map(([tag, at]) => at - (created.get(tag)?.at ?? at)));
    const firstCreated = Math.min(...[...created.values()].map((c) => c.at));
    const lastHit = Math.max(...firstHit.values());
    const drainSeconds = (lastHit - firstCreated) / 1000;
    const drainRate = firstHit.size / drainSeconds;
    // Wait until the consumer has also recorded every outcome in D1.
    let statuses = {};
    const ids = [...created.values()].map((c) => c.id);
    for (let attempt = 0; attempt < 100; attempt++) {
      statuses = {};
      for (let i = 0; i < ids.length; i += 90) {
        const chunk = ids.slice(i, i + 90);
        const { results } = await db
          .prepare(`SELECT status, COUNT(*) AS n FROM tasks WHERE id IN (${chunk.map(() => "?").join(",")}) GROUP BY status`)
          .bind(...chunk)
          .all();
        for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + r.n;
      }
      if ((statuses.completed ?? 0) + (statuses.failed ?? 0) + (statuses.timeout ?? 0) >= ids.length) break;
      await sleep(100);
    }
    raw.endToEnd = {
      tasks: E2E_TASKS,
      created: created.size,
      createFailures,
      createSeconds: (createEnded - createStarted) / 1000,
      targetHits: hits.length,
      uniqueHits: firstHit.size,
      duplicateHits: hits.length - firstHit.size,
      drainSeconds,
      drainRate,
      dispatch,
      finalStatuses: statuses,
    };
    row("4. End to end", "target ceiling (autocannon at the target) req/s", targetCeiling.rps, "req/s", 1, "itself");
    row("4. End to end", "target p50", targetCeiling.p50, "ms", 1, "itself");
    row("4. End to end", `tasks drained/s (${firstHit.size}/${E2E_TASKS} hit, first create -> last hit)`, drainRate, "tasks/s", drainRate / targetCeiling.rps, "target ceiling req/s");
    row("4. End to end", "dispatch latency p50 (created -> target hit)", dispatch.p50, "ms", dispatch.p50 / targetCeiling.p50, "target p50");
    row("4. End to end", "dispatch latency p99", dispatch.p99, "ms", dispatch.p99 / targetCeiling.p99, "target p99");
    row("4. End to end", "tasks completed in D1", statuses.completed ?? 0, "tasks", (statuses.completed ?? 0) / E2E_TASKS, "tasks created");

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
    const rl = await sequential(`/rl?team=${rlKey}&limit=1000000000`);
    const rlInWorker = await inWorker(`op=rl&team=${rlKey}&limit=1000000000`);
    raw.rateLimiter = { requests: RATE_ACCURACY_REQUESTS, admitted, refused, other, limit: FREE_LIMIT, rl, rlInWorker, noop };
    row("5. Rate limiter", `admitted of ${RATE_ACCURACY_REQUESTS} concurrent (Free, limit ${FREE_LIMIT})`, admitted, "requests", admitted / FREE_LIMIT, "the limit (must be 1.00)", { refused, other });
    row("5. Rate limiter", "consume() round trip p50 - no-op p50 (added p50)", rl.p50 - noop.p50, "ms", (rl.p50 - noop.p50) / d1InWorker, "one D1 query in-Worker");
    row("5. Rate limiter", "consume() in-Worker mean (DO RPC + SQLite insert)", rlInWorker, "ms", rlInWorker / d1InWorker, "one D1 query in-Worker");

    // ---- 6. Memory ---------------------------------------------------------------------------
    sample();
    const peakRssKb = Math.max(...memory.samples.map((s) => s.rssKb).filter(Number.isFinite));
    const hwmKb = client.workerdPids.reduce((s, pid) => s + statusKb(pid, "VmHWM"), 0);
    raw.memory = { idleRssKb: memory.idleRssKb, peakSampledRssKb: peakRssKb, vmHwmKb: hwmKb, samples: memory.samples.length };
    row("6. Memory (workerd)", "RSS after start (idle, schema applied)", memory.idleRssKb / 1024, "MiB", 1, "itself");
    row("6. Memory (workerd)", "peak RSS sampled every 250 ms", peakRssKb / 1024, "MiB", peakRssKb / memory.idleRssKb, "idle RSS");
    row("6. Memory (workerd)", "VmHWM at the end (kernel peak)", hwmKb / 1024, "MiB", hwmKb / memory.idleRssKb, "idle RSS");

    meta.totalSeconds = (performance.now() - benchStarted) / 1000;
    meta.teams = { pro: pool.teams.length + 1, free: 1, poolExhausted: pool.exhausted ?? 0 };
    if (runtimeErrors.length > 0) meta.runtimeErrors = runtimeErrors.slice(0, 10);
    report(meta, rows, raw);
    writeFileSync(RESULTS_FILE, JSON.stringify({ meta, results: rows, raw }, null, 2) + "\n");
    log(`wrote ${RESULTS_FILE}`);

    const problems = [];
    for (const [name, r] of Object.entries(raw.routes)) if (r.non2xx > 0 || r.errors > 0) problems.push(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
    if (ceiling.non2xx > 0) problems.push(`GET /healthz: ${ceiling.non2xx} non-2xx`);
    if (admitted !== FREE_LIMIT || other > 0) problems.push(`rate limiter admitted ${admitted} of ${RATE_ACCURACY_REQUESTS} (limit ${FREE_LIMIT}), ${other} neither 200 nor 429`);
    if (firstHit.size < E2E_TASKS || createFailures > 0) problems.push(`end to end: ${firstHit.size}/${E2E_TASKS} tasks reached the target, ${createFailures} creations failed`);
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
  if (unit === "MiB") return `${value.toFixed(1)} MiB`;
  return `${Math.round(value)} ${unit}`;
}

function report(meta, rows, raw) {
  const lines = [];
  lines.push("");
  lines.push(`Token Vault benchmark, ${meta.timestamp}`);
  lines.push(`Runtime:  ${meta.runtime.driver}; miniflare ${meta.runtime.miniflare}, workerd ${meta.runtime.workerd}, compatibility_date ${meta.runtime.compatibilityDate}; storage ${meta.runtime.storage}`);
  lines.push(`Bundle:   ${meta.runtime.bundler}`);
  lines.push(`Load:     ${meta.loadGenerator.tool}; ${meta.loadGenerator.connections} connections, pipelining 1, ${meta.loadGenerator.warmupSeconds} s warmup + ${meta.loadGenerator.durationSeconds} s measured per run`);
  lines.push(`Machine:  ${meta.machine.nproc} CPUs (${meta.machine.cpu}), Node ${meta.machine.node}, ${meta.machine.os}`);
  lines.push(`Notes:    rate limiter on: ${meta.teams.pro} Pro teams (600/min each), keys rotated per request; POST /v1/tasks in section 2 uses delay 3600 so the queue stays out of that figure;`);
  lines.push(`          section 3/5 micro figures come from a bench-only Worker in the same Miniflare (same D1 and DO class), ${SAMPLES} sequential calls each; in-Worker times are`);
  lines.push(`          means over ${SAMPLES} calls (workerd's clock has 1 ms steps and moves only on I/O). Local Miniflare Queues deliver one batch (max 10) at a time.`);
  lines.push("");
  const header = ["Figure", "Value", "Ratio", "Baseline"];
  const table = rows.map((r) => [r.figure, fmt(r.value, r.unit), Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : "-", r.baseline]);
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
  const e = raw.endToEnd;
  lines.push("");
  lines.push(`End to end: ${e.created} tasks created in ${e.createSeconds.toFixed(2)} s (${e.createFailures} failed), ${e.uniqueHits} reached the target (${e.duplicateHits} duplicate hits) ${e.drainSeconds.toFixed(2)} s after the first was created; D1 statuses ${JSON.stringify(e.finalStatuses)}`);
  lines.push(`Rate limiter burst: ${raw.rateLimiter.admitted} admitted, ${raw.rateLimiter.refused} refused (429), ${raw.rateLimiter.other} other`);
  lines.push(`Total bench time ${meta.totalSeconds.toFixed(0)} s.`);
  console.log(lines.join("\n"));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
