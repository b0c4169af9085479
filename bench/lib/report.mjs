// Output: the printed table and the checks that make the exit code non-zero.
import { FREE_LIMIT, LOOP_CALLS, LOOP_CHUNK, PACED_RATE, PACED_TASKS, RATE_ACCURACY_REQUESTS, SAMPLES } from "./config.mjs";

export function fmt(value, unit) {
  if (typeof value !== "number" || !Number.isFinite(value)) return String(value);
  if (unit === "req/s" || unit === "tasks/s") return `${value.toFixed(0)} ${unit}`;
  if (unit === "ms") return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
  if (unit === "KiB") return `${value.toFixed(1)} KiB`;
  if (unit === "MiB") return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} MiB`;
  return `${Math.round(value)} ${unit}`;
}


export function report(meta, rows, raw) {
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
  // Sections left out by BENCH_ONLY leave their raw figures undefined.
  if (raw.ceiling) lines.push(cpu("GET /healthz", raw.ceiling));
  for (const [name, r] of Object.entries(raw.routes ?? {})) lines.push(cpu(name, r));
  if (raw.targetCeiling) lines.push(cpu("target /ok (Node child process)", raw.targetCeiling));
  lines.push("");
  for (const e of [raw.endToEnd, raw.endToEndPaced].filter(Boolean)) {
    lines.push(`End to end (${e.mode}): ${e.created} tasks created in ${e.createSeconds.toFixed(2)} s (${e.createRate.toFixed(0)}/s, ${e.createFailures} failed), ${e.uniqueHits} reached the target`);
    lines.push(`  (${e.duplicateHits} duplicate hits) ${e.drainSeconds.toFixed(2)} s after the first was created; drain between the 10th and 90th percentile hit ${e.steadyRate.toFixed(0)} tasks/s;`);
    lines.push(`  queue wait min/p50/max ${e.breakdown.queueWait.min}/${e.breakdown.queueWait.p50}/${e.breakdown.queueWait.max} ms; D1 statuses ${JSON.stringify(e.finalStatuses)}`);
  }
  if (raw.rateLimiter) lines.push(`Rate limiter burst: ${raw.rateLimiter.admitted} admitted, ${raw.rateLimiter.refused} refused (429), ${raw.rateLimiter.other} other`);
  if (raw.memory) lines.push(`workerd RSS after each section: ${raw.memory.phases.map((p) => `${p.after} ${p.rssMiB.toFixed(0)} MiB`).join(", ")}`);
  lines.push(`Total bench time ${meta.totalSeconds.toFixed(0)} s.`);
  console.log(lines.join("\n"));
}

/** What makes the run fail: non-2xx during a load run, an inexact rate limit, a task that never arrived. */
export function problems(raw) {
  const found = [];
  for (const [name, r] of Object.entries(raw.routes ?? {})) {
    if (r.non2xx > 0 || r.errors > 0) found.push(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
    if (r.warmup.non2xx > 0 || r.warmup.errors > 0) found.push(`${name} warmup: ${r.warmup.non2xx} non-2xx, ${r.warmup.errors} errors`);
  }
  if (raw.ceiling?.non2xx > 0) found.push(`GET /healthz: ${raw.ceiling.non2xx} non-2xx`);
  for (const [name, r] of Object.entries(raw.store ?? {})) {
    if (r.non2xx > 0 || r.errors > 0) found.push(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
  }
  const { admitted, other } = raw.rateLimiter ?? { admitted: FREE_LIMIT, other: 0 };
  if (admitted !== FREE_LIMIT || other > 0) found.push(`rate limiter admitted ${admitted} of ${RATE_ACCURACY_REQUESTS} (limit ${FREE_LIMIT}), ${other} neither 200 nor 429`);
  for (const run of [raw.endToEnd, raw.endToEndPaced].filter(Boolean)) {
    if (run.uniqueHits < run.tasks || run.createFailures > 0 || (run.finalStatuses.completed ?? 0) < run.tasks) {
      found.push(`end to end (${run.mode}): ${run.uniqueHits}/${run.tasks} tasks reached the target, ${run.createFailures} creations failed, D1 statuses ${JSON.stringify(run.finalStatuses)}`);
    }
  }
  const fair = raw.fairness;
  if (fair && fair.loaded.max - fair.idle.max >= 2000) found.push(`fairness: team B's first attempt took ${fair.loaded.max} ms with a noisy neighbour vs ${fair.idle.max} ms idle (target: within 2 s)`);
  return found;
}
