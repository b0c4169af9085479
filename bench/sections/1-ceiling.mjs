// 1. Ceiling: GET /healthz (no auth, no storage), the baseline of section 2.
import { cpuPerRequest, loadRun } from "../lib/load.mjs";

export async function ceilingSection({ base, row, raw, log, memory }) {
  log("1. ceiling: GET /healthz");
  const ceiling = await loadRun(base, { path: "/healthz" });
  raw.ceiling = ceiling;
  row("1. Ceiling", "GET /healthz req/s", ceiling.rps, "req/s", 1, "itself", { non2xx: ceiling.non2xx });
  row("1. Ceiling", "GET /healthz p50", ceiling.p50, "ms", 1, "itself");
  row("1. Ceiling", "GET /healthz p99", ceiling.p99, "ms", 1, "itself");
  row("1. Ceiling", "GET /healthz workerd CPU per request", cpuPerRequest(ceiling), "ms", 1, "itself");
  memory.phase("1. ceiling");
  return ceiling;
}
