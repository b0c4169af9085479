// Calls into the bench-only Worker (bench/resolve-worker.ts, reached by its host name).
import { BENCH_HOST, LOOP_CALLS, LOOP_CHUNK, SAMPLES } from "./config.mjs";
import { request } from "./http.mjs";
import { summarize } from "./util.mjs";

export function benchWorker(base) {
  const benchGet = (path, headers = {}) => request(base, "GET", path, { host: BENCH_HOST, headers });
  /** Sequential round trips from Node, the paths interleaved so they all see the same conditions. */
  const interleaved = async (paths, n = SAMPLES, headers = {}) => {
    const rtt = paths.map(() => []);
    for (let i = -30; i < n; i++) {
      for (let j = 0; j < paths.length; j++) {
        const res = await benchGet(paths[j], headers);
        if (res.status !== 200) throw new Error(`bench ${paths[j]} answered ${res.status}: ${res.text}`);
        if (i >= 0) rtt[j].push(res.ms);
      }
    }
    return rtt.map(summarize);
  };
  /** Median over chunks of LOOP_CHUNK calls of the per-call mean, timed inside the Worker. */
  const inWorker = async (query, calls = LOOP_CALLS, headers = {}) => {
    await benchGet(`/loop?${query}&n=${LOOP_CHUNK}&chunk=${LOOP_CHUNK}`, headers);
    const res = await benchGet(`/loop?${query}&n=${calls}&chunk=${LOOP_CHUNK}`, headers);
    if (res.status !== 200) throw new Error(`bench loop ${query} answered ${res.status}: ${res.text}`);
    return summarize(res.json.chunks).p50;
  };
  return { interleaved, inWorker };
}
