// 8. Cost: each operation's D1 statements and rows, Durable Object requests and Queue
// operations (counted through the real Worker by bench/cost/, the same code the pinned counts in
// test/cost.integration.test.ts run), priced at Cloudflare's Workers Paid list prices.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_HOST } from "../lib/config.mjs";
import { request } from "../lib/http.mjs";

export async function costSection(ctx) {
  const { base, target, teams, row, raw, log } = ctx;
  log("8. cost per operation (metered bindings, through the bench Worker)");
  const team = await teams.createTeam("pro", "bench cost");
  const query = new URLSearchParams({ key: team.key, target: `${target.base}/ok?tag=cost` });
  const res = await request(base, "GET", `/cost?${query}`, { host: BENCH_HOST });
  if (res.status !== 200) throw new Error(`bench /cost answered ${res.status}: ${res.text}`);
  raw.cost = res.json;
  const simple = res.json.operations.find((o) => o.op === "task.1ref");
  row("8. Cost", "D1 round trips per task (creation -> completion, 1 reference)", simple.counts.d1RoundTrips, "round trips", simple.counts.d1RoundTrips, "itself");
  d1BusyTime(ctx, res.json.simpleTask);
  for (const { op, what, counts: c, perMillion: p } of res.json.operations) {
    const detail = `${c.d1RoundTrips} D1 round trips, ${c.d1Statements} statements, ${c.rowsRead} rows read, ${c.rowsWritten} written; ${c.doRequests} DO requests; ${c.queueWrites + c.queueReads + c.queueDeletes} queue ops; ${c.invocations} invocations`;
    row("8. Cost", `${op}: ${what}`, p.total, "$/M ops", p.d1Writes / p.total, "share of D1 rows written", { detail });
    log(`8. ${op}: $${p.total}/M (workers ${p.workers}, D1 writes ${p.d1Writes}, D1 reads ${p.d1Reads}, DO ${p.durableObjects}, queues ${p.queues}); ${detail}`);
  }
}

/**
 * D1 busy time per simple task: its exact statements replayed in SQLite by bench/d1-busy.py
 * (workerd's clock stands still while code runs, so the local D1 reports 0 ms). Skipped, with a
 * note, where python3 is missing.
 */
function d1BusyTime({ row, raw, log }, statements) {
  const script = join(dirname(fileURLToPath(import.meta.url)), "..", "d1-busy.py");
  const run = spawnSync("python3", [script, "2000"], { input: JSON.stringify(statements), encoding: "utf8" });
  if (run.status !== 0) {
    log(`8. D1 busy time skipped (python3 ${run.error ? "not found" : `failed: ${run.stderr.trim().split("\n").pop()}`})`);
    return;
  }
  const busy = JSON.parse(run.stdout);
  raw.d1Busy = busy;
  row("8. Cost", `D1 busy time per simple task (its ${busy.statementsPerTask} statements in SQLite ${busy.sqlite}, median of ${busy.runs})`, busy.msPerTaskMedian, "ms", busy.msPerTaskMedian, "itself");
  row("8. Cost", "  hence simple tasks/s one database can run at most (1000 / busy ms)", 1000 / busy.msPerTaskMedian, "tasks/s", 1, "an upper bound for deployed D1");
  row("8. Cost", "storage per simple task kept (its row, attempt, audit row, every index entry)", busy.bytesPerTask, "bytes", busy.bytesPerTask / (10 * 1024 ** 3), "D1's 10 GB limit");
  log(`8. D1 busy time: ${busy.msPerTaskMedian} ms per simple task (p90 ${busy.msPerTaskP90} ms), ${busy.tasksStored} tasks stored`);
}
