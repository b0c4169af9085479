// The runtime under test: the Worker bundled as wrangler does and run by Miniflare's API with
// wrangler.toml's bindings, the local target server, run metadata, and teardown.
import { execFileSync, fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { BENCH_HOST, CONNECTIONS, DURATION, ROOT, WARMUP } from "./config.mjs";
import { client } from "./http.mjs";

const require = createRequire(import.meta.url);

/** Versions, load generator and machine, for results.json and the table's header. */
export function collectMeta(startedAt) {
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
    } catch {
      return "unknown";
    }
  };
  const wranglerToml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wranglerToml)?.[1] ?? "2026-04-20";
  return {
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
}

/** Bundles the Worker and the bench Worker into a temporary directory; records the source in `meta.source`. */
export async function bundle(meta) {
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
  const git = (...args) => {
    try {
      return execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  meta.source = {
    commit: git("rev-parse", "--short", "HEAD") || "unknown",
    srcModified: git("status", "--porcelain", "--", "src", "migrations", "schema.sql", "wrangler.toml") !== "",
    bundleSha256: createHash("sha256").update(readFileSync(join(outDir, "index.js"))).digest("hex").slice(0, 16),
  };
  return outDir;
}

/** The local target server (bench/target.mjs) in a child process: tasks call it, it records their hits. */
export async function startTarget() {
  const child = fork(join(ROOT, "bench", "target.mjs"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const port = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.port));
    child.once("error", reject);
  });
  return {
    child,
    base: `http://127.0.0.1:${port}`,
    /** Every hit so far as [tag, receivedAtMs]. */
    report: () =>
      new Promise((resolve) => {
        child.once("message", (m) => resolve(m.hits));
        child.send("report");
      }),
    reset: () => child.send("reset"),
  };
}

/**
 * The tasks queue's batch settings as wrangler.toml gives them (the first consumer block of
 * token-vault-tasks), so the bench runs what is deployed; BENCH_BATCH_SIZE and
 * BENCH_BATCH_TIMEOUT override them to compare settings.
 */
function tasksConsumer() {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const block = /\[\[queues\.consumers\]\]\s*\nqueue = "token-vault-tasks"\n([^[]*)/.exec(toml)?.[1] ?? "";
  const setting = (name) => Number(new RegExp(`^${name}\\s*=\\s*(\\d+)`, "m").exec(block)?.[1]);
  const size = Number(process.env.BENCH_BATCH_SIZE ?? setting("max_batch_size"));
  const timeout = Number(process.env.BENCH_BATCH_TIMEOUT ?? setting("max_batch_timeout"));
  if (!Number.isFinite(size) || !Number.isFinite(timeout)) throw new Error("wrangler.toml: no max_batch_size / max_batch_timeout for token-vault-tasks");
  return { maxBatchSize: size, maxBatchTimeout: timeout };
}

/** wrangler.toml's compatibility_flags (the queue consumer depends on one). */
function wranglerFlags() {
  const line = /^compatibility_flags\s*=\s*(\[.*\])/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  return line ? JSON.parse(line[1]) : [];
}

/** Miniflare with wrangler.toml's bindings (random secrets), the Worker and the bench Worker. */
export function startMiniflare({ outDir, compatibilityDate }) {
  const bindings = {
    VAULT_MASTER_KEY: randomBytes(32).toString("hex"),
    ADMIN_TOKEN: `tvadm_${randomBytes(32).toString("hex")}`,
    JWT_SECRET: randomBytes(32).toString("hex"),
    API_KEY_SECRET: randomBytes(32).toString("hex"),
    ALLOW_LOOPBACK_TARGETS: "true",
  };
  const runtimeErrors = [];
  const mf = new Miniflare({
    ...(process.env.BENCH_INSPECTOR ? { inspectorPort: Number(process.env.BENCH_INSPECTOR) } : {}),
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
        compatibilityFlags: wranglerFlags(),
        bindings,
        d1Databases: { DB: "token-vault" },
        durableObjects: { TEAM_GATE: { className: "TeamGate", useSQLite: true }, LOGIN_THROTTLE: { className: "LoginThrottle", useSQLite: true } },
        queueProducers: { TASKS: { queueName: "token-vault-tasks" } },
        queueConsumers: {
          "token-vault-tasks": { ...tasksConsumer(), maxRetries: 10, deadLetterQueue: "token-vault-tasks-dlq" },
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
  return { mf, bindings, runtimeErrors };
}

/**
 * Teardown, in order: the HTTP agent, Miniflare, the target, the bundle directory. Ctrl-C /
 * SIGTERM stop at once instead (Miniflare's dispose can wait behind a running load), ending
 * only the processes this run started, by pid, and removing the temporary bundle directory.
 */
export function teardown({ mf, target, outDir, memory }) {
  const cleanups = [
    () => client.agent?.destroy(),
    () => mf.dispose(),
    () => {
      target.child.disconnect();
      target.child.kill();
    },
    () => rmSync(outDir, { recursive: true, force: true }),
  ];
  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[bench] ${signal}: stopping\n`);
    memory.stop();
    for (const pid of client.workerdPids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      target.child.kill();
    } catch {
      // already gone
    }
    rmSync(outDir, { recursive: true, force: true });
    process.exit(130);
  };
  // Prepended: Miniflare's own exit hook also listens and exits at once, which would leave outDir behind.
  for (const signal of ["SIGINT", "SIGTERM"]) process.prependListener(signal, () => stop(signal));
  return async () => {
    memory.stop();
    for (const fn of cleanups.splice(0)) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  };
}
