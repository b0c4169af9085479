// 10. The agent gateway's proxy: GET /s/<service>/ok through the Worker (credential injected)
// against GET /ok on the same local target called directly, in the same run.
import { BENCH_HOST, DURATION, SAMPLES, WARMUP } from "../lib/config.mjs";
import { request as send } from "../lib/http.mjs";
import { cpuPerRequest, loadRun } from "../lib/load.mjs";
import { mapLimit, summarize } from "../lib/util.mjs";

const SERVICE = "target";

/**
 * One request, retried once when a kept-alive socket turns out closed: the server drops sockets
 * idle for its keep-alive timeout (a few seconds, as during another section's load run) and
 * the agent may pick one just as it closes.
 */
async function request(...args) {
  try {
    return await send(...args);
  } catch (error) {
    if (error?.code !== "ECONNRESET") throw error;
    return send(...args);
  }
}
const PROXIED = `/s/${SERVICE}/ok`;

export async function proxySection({ base, target, row, raw, log, memory, teams }, ceiling) {
  const { pool, ensureCapacity, rotating } = teams;
  const authority = new URL(target.base).host;
  // Every pool team gets the service and its KEY (the bench's own value), so the load can rotate keys.
  const fixture = async () => {
    await mapLimit(pool.teams.filter((t) => !t.gateway), 8, async (team) => {
      const res = await request(base, "POST", "/gateway-fixture", { host: BENCH_HOST, body: { teamId: team.id, key: "BENCH_TARGET_TOKEN", value: `sk_bench_proxy_${team.id}`, service: SERVICE, host: authority } });
      if (res.status !== 200) throw new Error(`gateway fixture answered ${res.status}: ${res.text}`);
      team.gateway = true;
    });
  };
  log("10. proxy: fixtures");
  await fixture();

  // Round trips: direct and proxied interleaved, one request each at a time, so both see the same machine.
  log(`10. proxy: ${SAMPLES} interleaved round trips, direct vs proxied`);
  const direct = [];
  const proxied = [];
  const bare = [];
  for (let i = -30; i < SAMPLES; i++) {
    const a = await request(target.base, "GET", "/ok");
    const h = await request(base, "GET", "/healthz");
    const team = pool.pick();
    const b = await request(base, "GET", PROXIED, { headers: { authorization: `Bearer ${team.key}` } });
    if (a.status !== 200 || b.status !== 200) throw new Error(`proxy bench: direct ${a.status}, proxied ${b.status}: ${b.text}`);
    if (i >= 0) {
      direct.push(a.ms);
      proxied.push(b.ms);
      bare.push(h.ms);
    }
  }
  const d = summarize(direct);
  const p = summarize(proxied);
  const h = summarize(bare);
  const added = { p50: p.p50 - d.p50, p99: p.p99 - d.p99 };
  // What the vault's own work costs beyond the Worker hop itself (a bare /healthz round trip).
  const work = p.p50 - d.p50 - h.p50;
  raw.proxy = { direct: d, proxied: p, healthz: h, added, vaultWorkP50: work };
  row("10. Proxy", "target /ok direct round trip p50", d.p50, "ms", 1, "itself");
  row("10. Proxy", "GET /s/<service>/ok round trip p50", p.p50, "ms", p.p50 / d.p50, "direct p50");
  row("10. Proxy", "GET /s/<service>/ok round trip p99", p.p99, "ms", p.p99 / d.p99, "direct p99");
  row("10. Proxy", "added latency p50 (proxied - direct)", added.p50, "ms", added.p50 / d.p50, "direct p50");
  row("10. Proxy", "added latency p99 (proxied - direct)", added.p99, "ms", NaN, "-");
  row("10. Proxy", "GET /healthz round trip p50 (the Worker hop alone)", h.p50, "ms", h.p50 / d.p50, "direct p50");
  row("10. Proxy", "vault work p50 (added - Worker hop)", work, "ms", work / h.p50, "GET /healthz round trip p50");

  // Throughput: the target alone, then through the proxy (keys rotated so none hits its rate limit).
  log("10. proxy: load, target direct");
  const directLoad = await loadRun(target.base, { path: "/ok" });
  log("10. proxy: load, proxied");
  log("10. proxy: capacity");
  await ensureCapacity(directLoad.rps, WARMUP);
  log("10. proxy: fixture");
  await fixture();
  log("10. proxy: run");
  const proxiedLoad = await loadRun(base, { path: PROXIED, setup: rotating() }, async (warmup) => {
    await ensureCapacity(warmup.rps * 1.5, DURATION + 1);
    await fixture();
  });
  raw.proxyLoad = { direct: directLoad, proxied: proxiedLoad };
  raw.routes = { ...(raw.routes ?? {}), [`GET ${PROXIED}`]: proxiedLoad };
  row("10. Proxy", "target /ok direct req/s", directLoad.rps, "req/s", 1, "itself", { non2xx: directLoad.non2xx });
  row("10. Proxy", `GET ${PROXIED} req/s`, proxiedLoad.rps, "req/s", proxiedLoad.rps / directLoad.rps, "target direct req/s", { non2xx: proxiedLoad.non2xx });
  if (ceiling) row("10. Proxy", `GET ${PROXIED} req/s vs ceiling`, proxiedLoad.rps, "req/s", proxiedLoad.rps / ceiling.rps, "GET /healthz req/s");
  row("10. Proxy", `GET ${PROXIED} p50 under load`, proxiedLoad.p50, "ms", proxiedLoad.p50 / Math.max(directLoad.p50, 0.001), "target direct p50");
  row("10. Proxy", `GET ${PROXIED} workerd CPU per request`, cpuPerRequest(proxiedLoad), "ms", ceiling ? cpuPerRequest(proxiedLoad) / cpuPerRequest(ceiling) : NaN, ceiling ? "ceiling CPU per request" : "-");
  row("10. Proxy", `GET ${PROXIED} non-2xx`, proxiedLoad.non2xx, "responses", proxiedLoad.requests ? proxiedLoad.non2xx / proxiedLoad.requests : 0, "of all responses");

  // D1 and Durable Object requests per warm proxied request (metered, in the bench Worker).
  log("10. proxy: warm-path counts (metered)");
  const costTeam = pool.teams[0];
  const counts = await request(base, "GET", `/proxy-cost?key=${encodeURIComponent(costTeam.key)}&url=${encodeURIComponent(`https://vault.cost${PROXIED}`)}&n=50`, { host: BENCH_HOST });
  if (counts.status !== 200) throw new Error(`proxy cost answered ${counts.status}: ${counts.text}`);
  raw.proxyWarm = counts.json;
  row("10. Proxy", "D1 round trips per warm proxied request", counts.json.d1RoundTripsPerRequest, "queries", 0, "target: 0");
  row("10. Proxy", "Durable Object requests per warm proxied request", counts.json.doRequestsPerRequest, "requests", 1, "the team's gate (auth + rate limit + gateway version)");
  row("10. Proxy", "request-log D1 batches per 50 requests", counts.json.logBatches, "batches", counts.json.logBatches / 50, "per request");
  memory.phase("10. proxy");
}
