/**
 * Starts the real local server exactly as a user does (`npm run dev` runs `node scripts/dev.mjs`)
 * on a free port, with its own state directory and secrets file, and shares its address with
 * the e2e files. Everything it creates lives in one temporary directory removed on teardown.
 * Also starts the fake third-party APIs (test/fakes/upstream.ts) that tasks call.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { startUpstream } from "../fakes/upstream";
import { freePort } from "./free-port";

declare module "vitest" {
  export interface ProvidedContext {
    baseUrl: string;
    adminToken: string;
    jwtSecret: string;
    logFile: string;
    persistDir: string;
    /** The directory of the dev server's secrets file (and of its .dev-team.json). */
    devDir: string;
    /** The fake third-party APIs (test/fakes/upstream.ts) on 127.0.0.1. */
    upstreamUrl: string;
  }
}

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const READY_TIMEOUT_MS = 90_000;


function tail(file: string, lines = 60): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default async function setup({ provide }: TestProject) {
  const upstream = await startUpstream();
  const tempDir = mkdtempSync(join(tmpdir(), "token-vault-e2e-"));
  const persistDir = join(tempDir, "state");
  const logFile = join(tempDir, "server.log");
  const varsFile = join(tempDir, "dev.vars");
  const adminToken = `tvadm_${randomBytes(32).toString("hex")}`;
  // Known to the tests only to forge an expired session token signed with the real secret.
  const jwtSecret = randomBytes(32).toString("hex");
  writeFileSync(
    varsFile,
    [`VAULT_MASTER_KEY=${randomBytes(32).toString("hex")}`, `ADMIN_TOKEN=${adminToken}`, `JWT_SECRET=${jwtSecret}`, "ALLOW_LOOPBACK_TARGETS=true", ""].join("\n"),
    { mode: 0o600 },
  );
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  // stdout and stderr go straight to the file: this is the Worker log output the leak test reads.
  const logFd = openSync(logFile, "a");
  // `--port` as a user passes it (`npm run dev -- --port 9000`); PORT is unset so the flag alone decides.
  const { PORT: _ignored, ...parentEnv } = process.env;
  const child = spawn(process.execPath, ["scripts/dev.mjs", "--port", String(port)], {
    cwd: ROOT,
    env: { ...parentEnv, HOST: "127.0.0.1", TV_PERSIST_DIR: persistDir, TV_DEV_VARS: varsFile },
    stdio: ["ignore", logFd, logFd],
    detached: true, // its own process group, so teardown also stops wrangler and workerd
  });
  closeSync(logFd);
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `exited with ${signal ?? code}`));

  async function teardown() {
    if (child.pid !== undefined && !exited) {
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 5_000);
      await Promise.race([gone, sleep(6_000)]);
      clearTimeout(timer);
      // dev.mjs may exit before its grandchildren: make sure the whole group is gone.
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // group already empty
      }
    }
    // TV_E2E_KEEP_LOG=<path> keeps a copy of the server's log output for debugging.
    if (process.env.TV_E2E_KEEP_LOG) copyFileSync(logFile, process.env.TV_E2E_KEEP_LOG);
    rmSync(tempDir, { recursive: true, force: true });
    await upstream.close();
  }

  try {
    await waitForHealth(baseUrl, () => exited);
    await checkAdminToken(baseUrl, adminToken);
  } catch (error) {
    const message = `${(error as Error).message}\n--- server log tail (${logFile}) ---\n${tail(logFile)}`;
    await teardown();
    throw new Error(message);
  }

  provide("baseUrl", baseUrl);
  provide("adminToken", adminToken);
  provide("jwtSecret", jwtSecret);
  provide("logFile", logFile);
  provide("persistDir", persistDir);
  provide("devDir", tempDir);
  provide("upstreamUrl", upstream.url);
  return teardown;
}

async function waitForHealth(baseUrl: string, exited: () => string | undefined) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = exited();
    if (state) throw new Error(`the dev server ${state} before becoming healthy`);
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`GET ${baseUrl}/healthz did not answer 200 within ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * wrangler silently prefers a repo .dev.vars over other sources in some versions; prove the
 * secrets file written above is the one in effect: its random ADMIN_TOKEN must be accepted.
 */
async function checkAdminToken(baseUrl: string, adminToken: string) {
  const res = await fetch(`${baseUrl}/admin/vault`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) {
    throw new Error(`ADMIN_TOKEN from TV_DEV_VARS is not in effect: GET /admin/vault answered ${res.status} ${await res.text()}`);
  }
}
