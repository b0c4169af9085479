// The README's local server (`node scripts/dev.mjs`, i.e. `npm run dev`: wrangler dev) for
// `npm run bench:dev`, started from an empty state in a temporary directory and stopped with
// its whole process group.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { join } from "node:path";
import { request } from "./http.mjs";
import { sleep } from "./util.mjs";

/** A port nothing listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Runs `node scripts/dev.mjs --port <port>` from `root` with TV_PERSIST_DIR and TV_DEV_VARS in
 * a fresh temporary directory (so neither the user's .dev.vars nor their .wrangler state is
 * read or written), in its own process group, its output in `dev.log` there.
 */
export async function startDevServer(root) {
  const dir = mkdtempSync(join(os.tmpdir(), "token-vault-bench-dev-"));
  const port = await freePort();
  const varsFile = join(dir, ".dev.vars");
  const logFile = join(dir, "dev.log");
  const out = openSync(logFile, "a");
  const extra = (process.env.BENCH_DEV_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [join(root, "scripts", "dev.mjs"), "--port", String(port), ...extra], {
    cwd: root,
    env: { ...process.env, TV_PERSIST_DIR: join(dir, "state"), TV_DEV_VARS: varsFile, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", out, out],
    // Its own process group: wrangler and workerd are stopped with it, and a Ctrl-C in the
    // terminal reaches only this script, which then stops the group itself.
    detached: true,
  });
  let exited = null;
  const exitedPromise = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = { code, signal }))));
  const server = {
    dir,
    port,
    base: `http://127.0.0.1:${port}`,
    pid: child.pid,
    logFile,
    exited: () => exited,
    log: () => {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
    adminToken: () => /^\s*ADMIN_TOKEN\s*=\s*"?([^"\n]*)"?/m.exec(readFileSync(varsFile, "utf8"))?.[1],
    /** SIGTERM to the group (dev.mjs passes it to wrangler), SIGKILL to what is left after 10 s; then the temp dir. */
    async stop() {
      const groupAlive = () => {
        try {
          process.kill(-child.pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const signalGroup = (signal) => {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // already gone
        }
      };
      signalGroup("SIGTERM");
      const deadline = Date.now() + 10_000;
      while (groupAlive() && Date.now() < deadline) await sleep(100);
      if (groupAlive()) signalGroup("SIGKILL");
      await Promise.race([exitedPromise, sleep(2_000)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Polls GET /healthz until it answers 200 (wrangler dev takes a while on a loaded machine). */
export async function waitUntilServing(server, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exited()) throw new Error(`scripts/dev.mjs exited (${JSON.stringify(server.exited())}) before serving; its output:\n${server.log().slice(-4000)}`);
    try {
      const res = await request(server.base, "GET", "/healthz");
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`GET ${server.base}/healthz did not answer 200 within ${timeoutMs / 1000} s; dev.mjs output:\n${server.log().slice(-4000)}`);
}
