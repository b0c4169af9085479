// 2. Authenticated routes (rate limiter on, Pro keys rotated), against the ceiling.
import { DURATION, WARMUP } from "../lib/config.mjs";
import { cpuPerRequest, loadRun } from "../lib/load.mjs";

export async function authenticatedSection({ base, row, raw, log, memory, teams }, ceiling) {
  const { pool, ensureCapacity, rotating } = teams;
  const routes = [
    { name: "GET /v1/tokens", method: "GET", path: "/v1/tokens", setup: rotating() },
    { name: "POST /v1/tokens", method: "POST", path: "/v1/tokens", setup: rotating("token") },
    { name: "POST /v1/tasks (2 refs, delay 3600)", method: "POST", path: "/v1/tasks", setup: rotating("task") },
  ];
  raw.routes = {};
  for (const route of routes) {
    log(`2. ${route.name}`);
    // Enough keys for a warmup at the ceiling's rate, then for the measured run at 1.5x the warmup's.
    await ensureCapacity(ceiling.rps, WARMUP);
    const exhaustedBefore = pool.exhausted ?? 0;
    const result = await loadRun(base, route, (warmup) => ensureCapacity(warmup.rps * 1.5, DURATION + 1));
    result.poolExhausted = (pool.exhausted ?? 0) - exhaustedBefore;
    raw.routes[route.name] = result;
    row("2. Authenticated", `${route.name} req/s`, result.rps, "req/s", result.rps / ceiling.rps, "ceiling req/s", { non2xx: result.non2xx });
    row("2. Authenticated", `${route.name} p50`, result.p50, "ms", result.p50 / ceiling.p50, "ceiling p50");
    row("2. Authenticated", `${route.name} p99`, result.p99, "ms", result.p99 / ceiling.p99, "ceiling p99");
    row("2. Authenticated", `${route.name} workerd CPU per request`, cpuPerRequest(result), "ms", cpuPerRequest(result) / cpuPerRequest(ceiling), "ceiling CPU per request");
    row("2. Authenticated", `${route.name} non-2xx`, result.non2xx, "responses", result.requests ? result.non2xx / result.requests : 0, "of all responses");
  }
  raw.teams = pool.teams.length;
  memory.phase("2. authenticated");
}
