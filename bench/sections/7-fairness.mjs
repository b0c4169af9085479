// 7. Fairness (issue 9, finding 3): time to a team's first attempt while another team has 20
// hanging tasks, against the same figure on an idle queue. Target: within 2 s of idle.
import http from "node:http";
import { request } from "../lib/http.mjs";
import { sleep, summarize } from "../lib/util.mjs";

const HANGING = 20;
const PROBES = 5;

/** A target of its own: /hang/* answers only when released, /hit/<tag> records when it was reached. */
async function startFairnessTarget() {
  const open = new Set();
  const hits = new Map();
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url?.startsWith("/hang/")) {
      const done = () => {
        open.delete(done);
        if (!res.writableEnded && !res.destroyed) res.end("released");
      };
      open.add(done);
      res.once("close", done);
      return;
    }
    if (req.url?.startsWith("/hit/")) hits.set(req.url.slice(5), Date.now());
    res.end("ok");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    open: () => open.size,
    hitAt: (tag) => hits.get(tag),
    releaseAll: () => [...open].forEach((done) => done()),
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** Creates one task for `team` to /hit/<tag> and measures until the target sees it (ms). */
async function firstAttempt(base, team, target, tag) {
  const started = Date.now();
  const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: { targetUrl: `${target.base}/hit/${tag}`, maxRetries: 0 } });
  if (res.status !== 201) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.text}`);
  const deadline = started + 60_000;
  while (target.hitAt(tag) === undefined && Date.now() < deadline) await sleep(10);
  return (target.hitAt(tag) ?? Date.now()) - started;
}

export async function fairnessSection({ base, row, raw, log, memory, teams }) {
  log(`7. fairness: team B's first attempt, idle vs while team A has ${HANGING} hanging tasks`);
  const target = await startFairnessTarget();
  try {
    const a = await teams.createTeam("free", "bench noisy neighbour");
    const b = await teams.createTeam("free", "bench quiet team");
    const idle = [];
    for (let i = 0; i < PROBES; i++) idle.push(await firstAttempt(base, b, target, `idle-${i}`));
    for (let i = 0; i < HANGING; i++) {
      const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${a.key}` }, body: { targetUrl: `${target.base}/hang/${i}`, timeout: 30, maxRetries: 0 } });
      if (res.status !== 201) throw new Error(`POST /v1/tasks answered ${res.status}: ${res.text}`);
    }
    for (let i = 0; i < 100 && target.open() < 5; i++) await sleep(100);
    const hangingAtStart = target.open();
    const loaded = [];
    for (let i = 0; i < PROBES; i++) loaded.push(await firstAttempt(base, b, target, `loaded-${i}`));
    const hangingAtEnd = target.open();
    const idleStats = summarize(idle);
    const loadedStats = summarize(loaded);
    raw.fairness = { hanging: HANGING, hangingAtStart, hangingAtEnd, idle: idleStats, loaded: loadedStats, idleSamples: idle, loadedSamples: loaded };
    row("7. Fairness", "team B's first attempt, idle queue: p50", idleStats.p50, "ms", null, "");
    row("7. Fairness", `team B's first attempt, team A with ${HANGING} hanging tasks (${hangingAtStart} calls open): p50`, loadedStats.p50, "ms", loadedStats.p50 / idleStats.p50, "idle p50");
    row("7. Fairness", "  the same, max of 5 - idle max (target: < 2000 ms)", loadedStats.max - idleStats.max, "ms", null, "");
    target.releaseAll();
    memory.phase("7. fairness");
  } finally {
    target.releaseAll();
    await target.close();
  }
}
