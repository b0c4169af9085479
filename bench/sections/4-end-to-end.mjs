// 4. End to end: tasks drained by the queue consumer to the local target, against the target's own ceiling.
import { E2E_CREATE_CONCURRENCY, E2E_TASKS, PACED_RATE, PACED_TASKS } from "../lib/config.mjs";
import { client, request } from "../lib/http.mjs";
import { cpuSeconds } from "../lib/procs.mjs";
import { loadRun } from "../lib/load.mjs";
import { drive, now, sleep, summarize } from "../lib/util.mjs";

/**
 * Creates `count` tasks (two references each, no delay) either as fast as `concurrency`
 * allows or paced at `rate` per second, waits until the target saw them all and D1 holds
 * their outcome, and measures drain rate and dispatch latency.
 */
async function endToEnd({ base, db, target, teams }, { prefix, count, concurrency, rate }) {
  const { pool, ensureCapacity, taskBody } = teams;
  const targetReport = target.report;
  await ensureCapacity(count, 1);
  const created = new Map();
  const cpuStart = cpuSeconds(client.workerdPids);
  const create = async (i) => {
    const team = pool.pick();
    const res = await request(base, "POST", "/v1/tasks", { headers: { authorization: `Bearer ${team.key}` }, body: taskBody(team, `${prefix}-${i}`) });
    if (res.status === 201) created.set(`${prefix}-${i}`, { at: Date.parse(res.json.task.createdAt), id: res.json.task.id });
    return res.status;
  };
  const createStarted = now();
  const createdResults = await drive(count, { rate, concurrency }, create);
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
  // Everything workerd did for these tasks (creation, queue, consumer, completion) per task; the
  // polling above is a handful of D1 reads, noise beside it.
  const cpuPerTask = ((cpuSeconds(client.workerdPids) - cpuStart) * 1000) / Math.max(1, created.size);
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
    cpuPerTask,
  };
}

export async function endToEndSection(ctx) {
  const { row, raw, log, memory, target } = ctx;
  log("4. target ceiling");
  const targetCeiling = await loadRun(target.base, { path: "/ok" });
  raw.targetCeiling = targetCeiling;

  log(`4. end to end: ${E2E_TASKS} tasks with 2 refs each, no delay, ${E2E_CREATE_CONCURRENCY} concurrent creations`);
  target.reset();
  const e2e = await endToEnd(ctx, { prefix: "e2e", count: E2E_TASKS, concurrency: E2E_CREATE_CONCURRENCY });
  memory.phase("4. end to end (burst)");
  log(`4. end to end: ${PACED_TASKS} tasks paced at ${PACED_RATE}/s`);
  const paced = await endToEnd(ctx, { prefix: "paced", count: PACED_TASKS, rate: PACED_RATE });
  memory.phase("4. end to end (paced)");
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
  row("4. End to end", "burst: workerd CPU per task (created -> completed)", e2e.cpuPerTask, "ms", e2e.cpuPerTask / 1000, "1 s of one core");
  row("4. End to end", `paced ${PACED_RATE}/s: dispatch latency p50`, paced.dispatch.p50, "ms", paced.dispatch.p50 / targetCeiling.p50, "target p50");
  row("4. End to end", `paced ${PACED_RATE}/s: dispatch latency p99`, paced.dispatch.p99, "ms", paced.dispatch.p99 / targetCeiling.p99, "target p99");
  row("4. End to end", `paced ${PACED_RATE}/s: consumer p50 (claimed -> target hit)`, paced.breakdown.claimToHit.p50, "ms", paced.breakdown.claimToHit.p50 / paced.dispatch.p50, "paced dispatch p50");
}
