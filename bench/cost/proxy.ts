/**
 * The proxy's warm path, counted through the real Worker with metered bindings (meter.ts):
 * D1 round trips and Durable Object requests per proxied request once the key is in its gate
 * and the team's snapshot in the isolate's cache. Request-log batches (request-log.ts) are
 * D1 writes amortised over many requests: counted apart. Shared by the bench
 * (bench/resolve-worker.ts, GET /proxy-cost) and the pinned counts
 * (test/proxy-cost.integration.test.ts), so both count the same thing.
 */
import worker from "../../src/index";
import type { Env } from "../../src/env";
import { gatewayLoads } from "../../src/gateway/cache";
import { flushProxyLog, proxyLogWrites } from "../../src/gateway/request-log";
import { meter, type Meter } from "./meter";

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

/** One proxied request through the real fetch handler (its waitUntil work runs on, unawaited). */
export async function proxiedOnce(env: Env, url: string, key: string): Promise<number> {
  const exec = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
  const res = await worker.fetch(new Request(url, { headers: { authorization: `Bearer ${key}` } }), env, exec);
  await res.arrayBuffer();
  return res.status;
}

export async function measureProxyWarmPath(real: Env, input: { url: string; key: string; requests: number }, m: Meter = meter(real)): Promise<ProxyWarmCounts> {
  const warm = await proxiedOnce(m.env, input.url, input.key);
  if (warm !== 200) throw new Error(`proxy cost: warm-up answered ${warm}`);
  await flushProxyLog(m.env);
  m.reset();
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
