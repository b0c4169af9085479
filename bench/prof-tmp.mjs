import * as fsAll from "node:fs"; globalThis.__fs = fsAll;
import http from "node:http";
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import { applyMigrations, readMigrations } from "../scripts/d1-migrations.mjs";
import { client, request } from "./lib/http.mjs";
import { collectMeta, bundle, startMiniflare, startTarget } from "./lib/runtime.mjs";
import { teamFixtures } from "./lib/teams.mjs";
import { findWorkerdPids } from "./lib/procs.mjs";
import { mapLimit, sleep } from "./lib/util.mjs";
if (process.env.PROFILE === "1") process.env.BENCH_INSPECTOR = "9339";
const meta = collectMeta(new Date());
const outDir = await bundle(meta);
const target = await startTarget();
const { mf, bindings } = startMiniflare({ outDir, compatibilityDate: meta.runtime.compatibilityDate });
const base = (await mf.ready).href;
Object.assign(client, { base, agent: new http.Agent({ keepAlive: true, maxSockets: 64 }), workerdPids: findWorkerdPids() });
const db = await mf.getD1Database("DB");
await applyMigrations(db, await readMigrations());
const teams = teamFixtures({ base, adminToken: bindings.ADMIN_TOKEN, targetBase: target.base });
await teams.growPool(24);
const N = Number(process.env.N ?? 1000);
await teams.ensureCapacity(N, 1);
const targets = process.env.PROFILE === "1" ? await (await fetch("http://127.0.0.1:9339/json")).json() : [];

const profiles = [];
for (const t of targets) {
  const ws = new WebSocket(t.webSocketDebuggerUrl);
  await new Promise((r) => ws.on("open", r));
  let id = 0; const pending = new Map();
  ws.on("message", (m) => { const d = JSON.parse(m); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  await send("Profiler.enable"); await send("Profiler.setSamplingInterval", { interval: 200 }); await send("Profiler.start");
  profiles.push({ t, send, ws });
}
const t0 = performance.now();
const cpu0 = readCpu();
await mapLimit(Array.from({ length: N }), 16, async (_, i) => {
  const team = teams.pool.pick();
  const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: teams.taskBody(team, `p-${i}`) });
  if (res.status !== 201) console.log(res.status, res.text);
});
const tc = performance.now();
const cpuC = readCpu();
for (;;) { const hits = (await target.report()).filter(([tag]) => tag.startsWith("p-")); if (new Set(hits.map(h=>h[0])).size >= N) break; await sleep(50); }
const td = performance.now();
const cpuD = readCpu();
console.log(`create ${((tc - t0)/1000).toFixed(2)}s, drained at ${((td - t0)/1000).toFixed(2)}s => ${(N / ((td - t0)/1000)).toFixed(0)} tasks/s; workerd CPU ${(cpuD - cpu0)/N*10} ms/task (create phase ${(cpuC-cpu0)*10}ms)`);
for (const { t, send, ws } of profiles) {
  const { result } = await send("Profiler.stop");
  const name = profiles.findIndex((p) => p.t === t) + "-" + (t.title || "x").replace(/[^a-z0-9]+/gi, "_");
  writeFileSync(`/tmp/prof-${name}.cpuprofile`, JSON.stringify(result.profile));
  ws.close();
}
function readCpu() { const s = require_fs().readFileSync(`/proc/${client.workerdPids[0]}/stat`, "utf8").split(") ")[1].split(" "); return Number(s[11]) + Number(s[12]); }
function require_fs() { return globalThis.__fs; }
await mf.dispose(); target.child.kill(); process.exit(0);
