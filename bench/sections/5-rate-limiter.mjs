// 5. Rate limiter: accuracy under a concurrent burst at a Free team, and what the API-key gate
// and a plain consume() add to a request, against one D1 query (section 3).
import { randomBytes } from "node:crypto";
import http from "node:http";
import { FREE_LIMIT, RATE_ACCURACY_REQUESTS, SAMPLES } from "../lib/config.mjs";
import { request } from "../lib/http.mjs";

export async function rateLimiterSection({ base, row, raw, log, memory, teams, benchWorker }, { d1InWorker }) {
  const { createTeam } = teams;
  const { interleaved, inWorker } = benchWorker;
  log(`5. rate limiter: ${RATE_ACCURACY_REQUESTS} concurrent requests at a fresh Free team`);
  const freeTeam = await createTeam("free", "bench free");
  const burstAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const burst = await Promise.all(
    Array.from({ length: RATE_ACCURACY_REQUESTS }, () =>
      request(base, "GET", "/v1/tokens", { headers: { authorization: `Bearer ${freeTeam.key}` }, agent: burstAgent }).then(
        (r) => r.status,
        () => "error",
      ),
    ),
  );
  burstAgent.destroy();
  const admitted = burst.filter((s) => s === 200).length;
  const refused = burst.filter((s) => s === 429).length;
  const other = burst.length - admitted - refused;
  const rlKey = `bench-rl-${randomBytes(6).toString("hex")}`;
  const [rlNoop, rl, rlRefused] = await interleaved(["/noop", `/rl?team=${rlKey}&limit=1000000000`, `/rl?team=${rlKey}-0&limit=0&expect=refused`]);
  const rlInWorker = await inWorker(`op=rl&team=${rlKey}&limit=1000000000`);
  const rlRefusedInWorker = await inWorker(`op=rl&team=${rlKey}-0&limit=0&expect=refused`);
  // The request path's gate (API key authenticated by the team's DO from its cache + rate limit,
  // one RPC). Each key is counted against its Pro limit (600/min), so the round trips and the
  // in-Worker loop use a team each and stay under it.
  const gateSamples = Math.min(SAMPLES, 500);
  const [gateTeamA, gateTeamB] = [await createTeam("pro", "bench gate A"), await createTeam("pro", "bench gate B")];
  const [gateNoop, gate] = await interleaved(["/noop", "/gate"], gateSamples, { authorization: `Bearer ${gateTeamA.key}` });
  const gateInWorker = await inWorker("op=gate", 500, { authorization: `Bearer ${gateTeamB.key}` });
  raw.rateLimiter = { requests: RATE_ACCURACY_REQUESTS, admitted, refused, other, limit: FREE_LIMIT, rl, rlInWorker, noop: rlNoop, rlRefused, rlRefusedInWorker, gate, gateNoop, gateInWorker };
  row("5. Rate limiter", `admitted of ${RATE_ACCURACY_REQUESTS} concurrent (Free, limit ${FREE_LIMIT})`, admitted, "requests", admitted / FREE_LIMIT, "the limit (must be 1.00)", { refused, other });
  row("5. Rate limiter", "API-key gate (auth + limit, 1 DO RPC): round trip p50 - no-op p50", gate.p50 - gateNoop.p50, "ms", (gate.p50 - gateNoop.p50) / d1InWorker, "one D1 query in-Worker");
  row("5. Rate limiter", "API-key gate in-Worker (authenticateApiKey())", gateInWorker, "ms", gateInWorker / d1InWorker, "one D1 query in-Worker");
  row("5. Rate limiter", "plain limiter consume(): round trip p50 - no-op p50", rl.p50 - rlNoop.p50, "ms", (rl.p50 - rlNoop.p50) / d1InWorker, "one D1 query in-Worker");
  row("5. Rate limiter", "plain limiter consume() in-Worker (DO RPC + SQLite insert)", rlInWorker, "ms", rlInWorker / d1InWorker, "one D1 query in-Worker");
  row("5. Rate limiter", "  refused consume() (RPC, no write): round trip p50 - no-op p50", rlRefused.p50 - rlNoop.p50, "ms", (rlRefused.p50 - rlNoop.p50) / d1InWorker, "one D1 query in-Worker");
  row("5. Rate limiter", "  refused consume() (RPC, no write) in-Worker", rlRefusedInWorker, "ms", rlRefusedInWorker / d1InWorker, "one D1 query in-Worker");
  memory.phase("5. rate limiter");
}
