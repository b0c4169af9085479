/**
 * The proxy's warm path, counted through the real Worker with metered bindings (meter.ts):
 * D1 round trips and Durable Object requests per proxied request once the key is in its gate
 * and the team's snapshot in the isolate's cache. Request-log batches (request-log.ts) are
 * D1 writes amortised over many requests: counted apart. Shared by the bench
 * (bench/resolve-worker.ts, GET /proxy-cost; the cost model's `proxy.request`, scenarios.ts)
 * and the pinned counts (test/proxy-cost.integration.test.ts, test/cost.integration.test.ts),
 * so both count the same thing.
 */
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { gatewayLoads } from "../../src/gateway/cache";
import { flushProxyLog, MAX_BATCH, proxyLogWrites } from "../../src/gateway/request-log";
import { emptyCounts, meter, type Counts, type Meter } from "./meter";

export interface ProxyWarmCounts {
  requests: number;
  /** D1 round trips per request, request-log batches excluded. */
  d1RoundTripsPerRequest: number;
  doRequestsPerRequest: number;
  /** Snapshot loads (one D1 batch each) during the measured requests. */
  snapshotLoads: number;
  /** Request-log batches written for the measured requests (after a final flush), and rows. */
  logBatches: number;
  logRows: number;
}

const detached = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;

/** One proxied request through the real fetch handler (its waitUntil work runs on, unawaited, unless `exec` collects it). */
export async function proxiedOnce(env: Env, url: string, key: string, exec: ExecutionContext = detached): Promise<number> {
  const res = await worker.fetch(new Request(url, { headers: { authorization: `Bearer ${key}` } }), env, exec);
  await res.arrayBuffer();
  return res.status;
}

/** An ExecutionContext that keeps its waitUntil work, to be awaited by `settle`. */
function collecting() {
  const pending: Promise<unknown>[] = [];
  const exec = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
  return { exec, settle: async () => void (await Promise.allSettled(pending.splice(0))) };
}

/** One request first: the key into its gate, the team's snapshot into this isolate's cache; its log row written. */
async function warmUp(m: Meter, url: string, key: string): Promise<void> {
  const { exec, settle } = collecting();
  const warm = await proxiedOnce(m.env, url, key, exec);
  if (warm !== 200) throw new Error(`proxy cost: warm-up answered ${warm}`);
  await flushProxyLog(m.env);
  // Its delayed flush too (request-log.ts, FLUSH_DELAY_MS: about a second), so none is pending.
  await settle();
  m.reset();
}

/**
 * One warm proxied request as the cost model prices it (`proxy.request`): the request itself
 * (its waitUntil work included), plus its request-log row as it is written in steady state,
 * amortised: a row is one INSERT of a batch of up to MAX_BATCH (50), so a request costs that
 * statement and its rows written in full and 1/50 of the batch's round trip (a quiet isolate
 * flushes smaller batches, once a second: up to a whole round trip per request). The row is
 * flushed alone here and measured apart, then its round trip is divided.
 */
export async function measureProxyRequest(m: Meter, url: string, key: string): Promise<Counts> {
  await warmUp(m, url, key);
  for (let attempt = 0; attempt < 3; attempt++) {
    const { exec, settle } = collecting();
    m.reset();
    const batches = proxyLogWrites.batches;
    m.counts.invocations += 1;
    const status = await proxiedOnce(m.env, url, key, exec);
    if (status !== 200) throw new Error(`proxy cost: request answered ${status}`);
    const request = { ...m.counts };
    // A request that outlasted FLUSH_DELAY_MS had its row flushed by its own timer inside the
    // window: that round trip would not be amortised, so measure again.
    const flushedEarly = proxyLogWrites.batches !== batches;
    m.reset();
    await flushProxyLog(m.env);
    const log = { ...m.counts };
    m.reset();
    await settle(); // the delayed flush (nothing left to write) and any other waitUntil work
    const after = { ...m.counts };
    if (flushedEarly) continue;
    if (log.d1RoundTrips !== 1 || log.d1Statements !== 1) throw new Error("proxy cost: the request's log row was not flushed alone");
    const total = emptyCounts();
    for (const figure of Object.keys(total) as (keyof Counts)[]) total[figure] = request[figure] + after[figure] + log[figure];
    total.d1RoundTrips = request.d1RoundTrips + after.d1RoundTrips + log.d1RoundTrips / MAX_BATCH;
    return total;
  }
  throw new Error("proxy cost: three requests in a row outlasted the request log's flush delay");
}

export async function measureProxyWarmPath(real: Env, input: { url: string; key: string; requests: number }, m: Meter = meter(real)): Promise<ProxyWarmCounts> {
  await warmUp(m, input.url, input.key);
  const before = { batches: proxyLogWrites.batches, rows: proxyLogWrites.rows, loads: gatewayLoads.d1 };
  for (let i = 0; i < input.requests; i++) {
    const status = await proxiedOnce(m.env, input.url, input.key);
    if (status !== 200) throw new Error(`proxy cost: request ${i} answered ${status}`);
  }
  const d1 = m.counts.d1RoundTrips - (proxyLogWrites.batches - before.batches);
  const doRequests = m.counts.doRequests;
  const snapshotLoads = gatewayLoads.d1 - before.loads;
  await flushProxyLog(m.env);
  return {
    requests: input.requests,
    d1RoundTripsPerRequest: d1 / input.requests,
    doRequestsPerRequest: doRequests / input.requests,
    snapshotLoads,
    logBatches: proxyLogWrites.batches - before.batches,
    logRows: proxyLogWrites.rows - before.rows,
  };
}
