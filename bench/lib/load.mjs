// Load runs (autocannon, in this process).
import autocannon from "autocannon";
import { CONNECTIONS, DURATION, WARMUP } from "./config.mjs";
import { client } from "./http.mjs";
import { cpuSeconds } from "./procs.mjs";
import { summarize } from "./util.mjs";

export async function cannon(base, { method = "GET", path, setup, connections = CONNECTIONS, duration }) {
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
  if (base === client.base) client.served += latencies.length;
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

/** Warmup, then (after `beforeMeasure(warmup)`) the measured run. */
export async function loadRun(base, spec, beforeMeasure) {
  const warmup = await cannon(base, { ...spec, duration: WARMUP });
  if (beforeMeasure) await beforeMeasure(warmup);
  const result = await cannon(base, { ...spec, duration: DURATION });
  result.warmup = { requests: warmup.requests, rps: warmup.rps, non2xx: warmup.non2xx, errors: warmup.errors };
  return result;
}

/** workerd CPU milliseconds per request of a load run. */
export const cpuPerRequest = (r) => (r.workerdCpuPercent / 100 / r.rps) * 1000;
