// Knobs (environment) and fixed parameters of `npm run bench`; see bench/README.md.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const RESULTS_FILE = join(ROOT, "bench", "results.json");

const num = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};
export const DURATION = num("BENCH_DURATION", 8);
export const WARMUP = num("BENCH_WARMUP", 2);
export const CONNECTIONS = num("BENCH_CONNECTIONS", 8);
export const E2E_TASKS = num("BENCH_TASKS", 500);
export const SAMPLES = num("BENCH_SAMPLES", 300);
// In-Worker loops: calls per loop, timed in chunks (workerd's clock has 1 ms steps).
export const LOOP_CALLS = 1000;
export const LOOP_CHUNK = 50;
export const E2E_CREATE_CONCURRENCY = 16;
// A second end-to-end run at a rate the local consumer keeps up with (latency without backlog).
export const PACED_RATE = 100;
export const PACED_TASKS = 300;
export const RATE_ACCURACY_REQUESTS = 200;
export const FREE_LIMIT = 60;
export const PRO_LIMIT = 600;
// Client-side budget per Pro team: stay well under 600 per 60 s window (with margin for clock skew).
export const TEAM_BUDGET = 560;
export const TEAM_WINDOW_MS = 65_000;
export const BENCH_HOST = "bench.local";
