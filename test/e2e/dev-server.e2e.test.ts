/**
 * Issue 16: what `npm run dev` gives a newcomer. The shared server of the e2e suite is started
 * by scripts/dev.mjs with `--port`; it must print a working API key and a first task that
 * completes offline (run here exactly as printed), keep the key file private, refuse a busy
 * port with a hint, and leave out wrangler's offline noise without hiding real errors.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { CF_NOTE, createLineFilter } from "../../scripts/dev-output.mjs";
import { baseUrl, sleep } from "./helpers";

const ROOT = join(import.meta.dirname, "..", "..");
const serverLog = () => readFileSync(inject("logFile"), "utf8");

/** The announcement is printed once the team exists, shortly after wrangler's "Ready". */
async function printedFirstTask(): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = /^(TASK=\$\(curl[\s\S]*?\ncurl -s "[^\n]*)$/m.exec(serverLog());
    if (match?.[1]) return match[1];
    if (Date.now() > deadline) throw new Error(`no first-task command in the dev server's output:\n${serverLog().slice(-3000)}`);
    await sleep(200);
  }
}

describe("npm run dev", () => {
  it("prints a first task that completes offline, run exactly as printed", async () => {
    const script = await printedFirstTask();
    expect(script).toContain(`${baseUrl()}/_dev/echo`);
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", script], { encoding: "utf8", timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    const { task } = JSON.parse(run.stdout);
    expect(task.status).toBe("completed");
    expect(task.result.statusCode).toBe(200);
    const echoed = JSON.parse(task.result.body);
    expect(echoed.body).toBe('{"hello":"world"}');
    // No Content-Type given: a JSON body goes as JSON.
    expect(echoed.headers["content-type"]).toBe("application/json");
  });

  it("keeps the development team's key in a private file, and prints it", async () => {
    await printedFirstTask();
    const file = join(inject("devDir"), ".dev-team.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved.key).toMatch(/^tvk_[0-9a-z]{26}[0-9A-Za-z]{49}$/);
    expect(serverLog()).toContain(`export BASE=${baseUrl()} KEY=${saved.key}`);
    const res = await fetch(`${baseUrl()}/v1/tokens`, { headers: { authorization: `Bearer ${saved.key}` } });
    expect(res.status).toBe(200);
  });

  it("refuses a busy port and says how to choose another", () => {
    const port = new URL(baseUrl()).port;
    const { PORT: _ignored, ...env } = process.env;
    const run = spawnSync(process.execPath, ["scripts/dev.mjs", "--port", port], {
      cwd: ROOT,
      env: { ...env, HOST: "127.0.0.1", TV_DEV_VARS: join(inject("devDir"), "busy.vars") },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is busy`);
    expect(run.stderr).toContain("PORT=9000 npm run dev or npm run dev -- --port 9000");
  });

  it("leaves out wrangler's offline noise", async () => {
    await printedFirstTask();
    const log = serverLog();
    expect(log).not.toMatch(/update available/);
    expect(log).not.toMatch(/types might be out of date/);
    expect(log).not.toMatch(/getaddrinfo ENOTFOUND workers\.cloudflare\.com/);
    expect(log).not.toMatch(/Unable to fetch the `Request\.cf` object/);
    expect(log).not.toMatch(/^\[wrangler:info\] (GET|POST) /m);
    expect(log.split(CF_NOTE).length).toBeLessThanOrEqual(2);
  });
});

describe("the output filter", () => {
  const run = (text: string, chunk = 7) => {
    const kept: string[] = [];
    const filter = createLineFilter((line: string) => kept.push(line));
    for (let i = 0; i < text.length; i += chunk) filter.push(Buffer.from(text.slice(i, i + chunk)));
    filter.end();
    return kept;
  };

  it("drops the Request.cf trace and wrangler's request lines, once noted", () => {
    const text = [
      "[wrangler:warn] Unable to fetch the `Request.cf` object! Falling back to a default placeholder...",
      "Error: getaddrinfo ENOTFOUND workers.cloudflare.com",
      "    at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:122:26)",
      "❓ Your types might be out of date. Re-run `wrangler types` to ensure your types are correct.",
      "[wrangler:info] Ready on http://127.0.0.1:8787",
      "[wrangler:warn] Unable to fetch the `Request.cf` object! Falling back to a default placeholder...",
      "Error: getaddrinfo ENOTFOUND workers.cloudflare.com",
      "    at x (y:1:2)",
      '{"level":"info","event":"request","method":"GET","route":"/healthz","status":200,"ms":1}',
      "\u001b[32m[wrangler:info] GET /healthz 200 OK (17ms)\u001b[0m",
      "[wrangler:info] QUEUE token-vault-tasks 1/1 (31ms)",
      "last line without newline",
    ].join("\n");
    expect(run(text)).toEqual([
      CF_NOTE,
      "[wrangler:info] Ready on http://127.0.0.1:8787",
      '{"level":"info","event":"request","method":"GET","route":"/healthz","status":200,"ms":1}',
      "[wrangler:info] QUEUE token-vault-tasks 1/1 (31ms)",
      "last line without newline",
    ]);
  });

  it("keeps real errors and their stack traces", () => {
    const text = ["✘ [ERROR] Build failed", "Error: boom", "    at main (src/index.ts:1:1)", "[wrangler:error] TypeError: x is not a function", ""].join("\n");
    expect(run(text)).toEqual(["✘ [ERROR] Build failed", "Error: boom", "    at main (src/index.ts:1:1)", "[wrangler:error] TypeError: x is not a function"]);
  });
});
