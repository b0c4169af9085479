import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { meter } from "../bench/cost/meter";
import worker from "../src/index";
import { gatewayLoads } from "../src/gateway/cache";
import { flushProxyLog, proxyLogWrites } from "../src/gateway/request-log";
import { newTeam } from "./helpers/api";
import { putService, putVaultKey, upstreamAuthority } from "./helpers/gateway";

/**
 * The proxy's warm path, counted through the real Worker with metered bindings (the cost
 * model's meter): one Durable Object request (the team's gate: authentication, rate limit and
 * the gateway version in one RPC) and no D1 query per proxied request. Request-log rows are
 * written in batches (request-log.ts), counted apart. A changed service costs one D1 round
 * trip, on the very next request only.
 */
describe("the proxy's warm path (pinned counts)", () => {
  it("makes no D1 query and one gate RPC per request; a change reloads once", async () => {
    const team = await newTeam("pro");
    await putVaultKey(team.team.id, "COST_KEY", "cost-value");
    await putService(team.team.id, { name: "cost", host: upstreamAuthority(), auth: { type: "bearer", token: "COST_KEY" } });
    const m = meter(env);
    const exec = { waitUntil: () => undefined, passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
    const proxied = async () => {
      const res = await worker.fetch(new Request(`https://vault.cost/s/cost/ns/cost-${crypto.randomUUID()}/ok`, { headers: { authorization: `Bearer ${team.key}` } }), m.env, exec);
      expect(res.status).toBe(200);
      await res.text();
    };
    await proxied(); // warm-up: the key into its gate, the snapshot into this isolate's cache
    await flushProxyLog(m.env);

    m.reset();
    const batchesBefore = proxyLogWrites.batches;
    const rowsBefore = proxyLogWrites.rows;
    const loadsBefore = gatewayLoads.d1;
    const N = 10;
    for (let i = 0; i < N; i++) await proxied();
    const logBatches = proxyLogWrites.batches - batchesBefore;
    expect({ d1RoundTrips: m.counts.d1RoundTrips - logBatches, doRequests: m.counts.doRequests, snapshotLoads: gatewayLoads.d1 - loadsBefore }).toEqual({ d1RoundTrips: 0, doRequests: N, snapshotLoads: 0 });
    // The N rows of the log, in one batch (two if the delayed flush of an earlier request ran between).
    await flushProxyLog(m.env);
    expect(proxyLogWrites.rows - rowsBefore).toBe(N);
    expect(proxyLogWrites.batches - batchesBefore).toBeLessThanOrEqual(2);

    await putService(team.team.id, { name: "cost", host: upstreamAuthority(), auth: { type: "bearer", token: "COST_KEY" } });
    const d1Of = async () => {
      m.reset();
      const batches = proxyLogWrites.batches;
      await proxied();
      return m.counts.d1RoundTrips - (proxyLogWrites.batches - batches);
    };
    expect([await d1Of(), gatewayLoads.d1 - loadsBefore]).toEqual([1, 1]);
    expect([await d1Of(), gatewayLoads.d1 - loadsBefore]).toEqual([0, 1]);
  });
});
