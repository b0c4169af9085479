// 8. The credential store's named views: GET /vault/secrets/:name (runtime retrieval) and
// POST /v1/leases (a lease with its value), as ratios to the ceiling, with the D1 round trips
// each path makes (counted from the code: the gate's key cache is warm, so authentication
// makes none).
import { DURATION, WARMUP } from "../lib/config.mjs";
import { request } from "../lib/http.mjs";
import { cpuPerRequest, loadRun } from "../lib/load.mjs";
import { mapLimit } from "../lib/util.mjs";

const REVEAL_SCOPES = ["secrets:read", "secrets:write", "secrets:reveal"];
/** D1 round trips per request on each path (see README "The credential store"). */
const ROUND_TRIPS = {
  "GET /vault/secrets/:name": { d1: 1, what: "one batch: the read and its vault.secret.retrieved audit row" },
  "POST /v1/leases": { d1: 2, what: "the credential's policy by name; one batch: the conditional lease INSERT, its audit row, the sealed value" },
};

export async function storeSection({ base, row, raw, log, memory, teams }, ceiling) {
  const { pool, ensureCapacity } = teams;
  log("8. store: a reveal key, a secret and a credential (maxLeases unlimited) per pool team");
  const prepare = async (team) => {
    if (team.revealKey) return;
    const admin = { authorization: `Bearer ${teams.adminToken}` };
    const key = await request(base, "POST", `/admin/teams/${team.id}/apikeys`, { headers: admin, body: { name: "bench reveal", scopes: REVEAL_SCOPES } });
    if (key.status !== 201) throw new Error(`admin key creation answered ${key.status}: ${key.text}`);
    team.revealKey = key.json.key;
    const auth = { authorization: `Bearer ${team.revealKey}` };
    const secret = await request(base, "POST", "/vault/secrets", { headers: auth, body: { name: "bench_secret", value: "sk_bench_secret_value_0123456789" } });
    if (secret.status !== 201) throw new Error(`POST /vault/secrets answered ${secret.status}: ${secret.text}`);
    const credential = await request(base, "POST", "/v1/credentials", { headers: auth, body: { name: "bench-credential", type: "api-key", value: "sk_bench_credential_0123456789", policy: { defaultLeaseTTL: "60s" } } });
    if (credential.status !== 201) throw new Error(`POST /v1/credentials answered ${credential.status}: ${credential.text}`);
    team.bodies.lease = Buffer.from(JSON.stringify({ credentialName: "bench-credential", ttl: "60s", identity: { type: "agent", name: "bench" } }));
    team.uses.push(Date.now(), Date.now());
  };
  const revealing = (bodyName) => (req) => {
    const team = pool.pick();
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${team.revealKey}` }, ...(bodyName ? { body: team.bodies[bodyName] } : {}) };
  };
  const routes = [
    { name: "GET /vault/secrets/:name", method: "GET", path: "/vault/secrets/bench_secret", setup: revealing() },
    { name: "POST /v1/leases", method: "POST", path: "/v1/leases", setup: revealing("lease") },
  ];
  raw.store = {};
  for (const route of routes) {
    log(`8. ${route.name}`);
    await ensureCapacity(ceiling.rps, WARMUP);
    await mapLimit(pool.teams, 8, prepare);
    const result = await loadRun(base, route, async (warmup) => {
      await ensureCapacity(warmup.rps * 1.5, DURATION + 1);
      await mapLimit(pool.teams, 8, prepare);
    });
    raw.store[route.name] = { ...result, d1RoundTrips: ROUND_TRIPS[route.name] };
    row("8. Store", `${route.name} req/s`, result.rps, "req/s", result.rps / ceiling.rps, "ceiling req/s", { non2xx: result.non2xx });
    row("8. Store", `${route.name} p50`, result.p50, "ms", result.p50 / ceiling.p50, "ceiling p50");
    row("8. Store", `${route.name} p99`, result.p99, "ms", result.p99 / ceiling.p99, "ceiling p99");
    row("8. Store", `${route.name} workerd CPU per request`, cpuPerRequest(result), "ms", cpuPerRequest(result) / cpuPerRequest(ceiling), "ceiling CPU per request");
    row("8. Store", `${route.name} D1 round trips`, ROUND_TRIPS[route.name].d1, "per request", null, ROUND_TRIPS[route.name].what);
    row("8. Store", `${route.name} non-2xx`, result.non2xx, "responses", result.requests ? result.non2xx / result.requests : 0, "of all responses");
  }
  memory.phase("8. store");
}
