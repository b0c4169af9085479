/**
 * Bench-only Worker (never deployed). `npm run bench` bundles it with esbuild and runs it in
 * the same Miniflare instance as the real Worker, sharing its D1 database and its
 * TeamGate Durable Object class, so the vault and rate-limit code paths can be timed
 * in isolation with the real bindings:
 *
 *   GET /noop                              nothing (the round-trip baseline)
 *   GET /d1                                one D1 primary-key lookup (the "one D1 query" baseline)
 *   GET /resolve?team=<id>&ids=a,b,c       resolveTokens() for that team (task actor, as the consumer does)
 *   GET /rl?team=<key>&limit=<n>           one TeamGate.consume(limit) via gateFor(),
 *                                          a new stub per call as the app's request path does
 *                                          (&stub=reuse keeps one stub for the whole loop; limit=0
 *                                          with &expect=refused: the refused path, which writes nothing)
 *   GET /gate  (Authorization: Bearer <API key>)   authenticateApiKey(): the request path's API-key
 *                                          gate (the team's DO authenticates from its cache and
 *                                          counts the request, one RPC); must be admitted
 *   GET /cost?key=<API key of a fresh Pro team>&target=<url>   the cost model: every operation of
 *                                          bench/cost/scenarios.ts run once through the real
 *                                          Worker with metered bindings; counts and $ per million
 *                                          (it makes its own fixtures through the API: a second key
 *                                          with secrets:reveal, a credential, a secret, a service on
 *                                          the target's host)
 *   POST /gateway-fixture {teamId, key, value, service, host}   a vault KEY credential (sealed by the
 *                                          store's cipher, kind vault_key) and a bearer service naming it,
 *                                          as the gateway's writers leave them (then gatewayChanged)
 *   GET /proxy-cost?key=<API key>&url=<proxied URL>&n=<n>   the proxy's warm path through the real
 *                                          Worker with metered bindings (bench/cost/proxy.ts)
 *   GET /loop?op=noop|d1|resolve|rl|gate&n=<n>&chunk=<k>&...   n sequential calls inside the Worker,
 *                                          timed in chunks of k calls
 *
 * Times are taken inside the Worker with performance.now(). workerd's clock has 1 ms steps and
 * only moves on I/O, so single calls cannot be timed there: /loop times chunks of k calls and
 * returns every chunk's mean, whose median is robust to the occasional slow call. No resolved
 * value ever leaves this Worker; only counts and times are returned.
 */
import { authenticateApiKey } from "../src/auth/apikeys";
import { taskContext } from "../src/context";
import type { Env } from "../src/env";
import { gateFor } from "../src/gate/client";
import { resolveTokens } from "../src/vault/tokens";
import { gatewayChanged } from "../src/gateway/cache";
import { ulid } from "../src/ids";
import { sealSecret } from "../src/vault/cipher";
import { getKeyring } from "../src/vault/keyring";
import { measureProxyWarmPath } from "./cost/proxy";
import { measureOperations, OPERATIONS } from "./cost/scenarios";
import { ASSUMPTIONS, price, PRICES } from "./cost/prices";

const salts = new Map<string, string>();

async function teamSalt(env: Env, teamId: string): Promise<string> {
  let salt = salts.get(teamId);
  if (salt === undefined) {
    const row = await env.DB.prepare("SELECT key_salt FROM teams WHERE id = ?").bind(teamId).first<{ key_salt: string }>();
    if (!row) throw new Error(`no team ${teamId}`);
    salt = row.key_salt;
    salts.set(teamId, salt);
  }
  return salt;
}

/** The bench's own fixture (its value is the bench's, not a user's): a KEY and a bearer service naming it. */
async function gatewayFixture(env: Env, input: { teamId: string; key: string; value: string; service: string; host: string }): Promise<void> {
  const id = `tok_${ulid()}`;
  const sealed = await sealSecret(await getKeyring(env), { teamId: input.teamId, salt: await teamSalt(env, input.teamId) }, id, input.value);
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind) VALUES (?, ?, ?, ?, ?, ?, ?, 'vault_key')").bind(id, input.teamId, input.key, sealed.ciphertext, sealed.iv, sealed.keyVersion, at),
    env.DB
      .prepare("INSERT INTO services (team_id, name, host, enabled, auth, position, created_at, updated_at) VALUES (?, ?, ?, 1, ?, 1, ?, ?)")
      .bind(input.teamId, input.service, input.host, JSON.stringify({ type: "bearer", token: input.key }), at, at),
  ]);
  await gatewayChanged(env, input.teamId);
}

type Op = () => Promise<unknown>;

async function prepare(env: Env, url: URL, headers: Headers): Promise<Op> {
  const q = url.searchParams;
  switch (q.get("op") ?? url.pathname.slice(1)) {
    case "noop":
      return async () => undefined;
    case "d1": {
      const id = q.get("id") ?? "tok_none";
      return () => env.DB.prepare("SELECT id, name FROM tokens WHERE id = ?").bind(id).first();
    }
    case "resolve": {
      const teamId = q.get("team") ?? "";
      const ids = (q.get("ids") ?? "").split(",").filter(Boolean);
      const salt = await teamSalt(env, teamId);
      return async () => {
        const values = await resolveTokens(taskContext(env, { id: "task_bench", apiKeyId: "key_bench", team: { id: teamId, keySalt: salt } }, "req_bench"), ids);
        if (values.size !== ids.length) throw new Error(`resolved ${values.size} of ${ids.length}`);
        values.clear();
      };
    }
    case "rl": {
      const team = q.get("team") ?? "bench";
      const limit = Number(q.get("limit") ?? "1000000000");
      const shared = q.get("stub") === "reuse" ? gateFor(env, team) : undefined;
      const expectAllowed = q.get("expect") !== "refused";
      return async () => {
        const decision = await (shared ?? gateFor(env, team)).consume(limit);
        if (decision.allowed !== expectAllowed) throw new Error(`bench limiter ${decision.allowed ? "admitted" : "refused"} unexpectedly`);
      };
    }
    case "gate":
      return async () => {
        const { decision } = await authenticateApiKey(env, headers);
        if (!decision.allowed) throw new Error("bench gate refused (rate limit)");
      };
    default:
      throw new Error(`unknown op in ${url.pathname}`);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      if (url.pathname === "/cost") {
        const trace: Parameters<typeof measureOperations>[2] = {};
        const counts = await measureOperations(env, { key: url.searchParams.get("key") ?? "", targetUrl: url.searchParams.get("target") ?? "" }, trace);
        const operations = Object.entries(counts).map(([op, c]) => ({ op, what: OPERATIONS[op as keyof typeof OPERATIONS], counts: c, perMillion: price(c) }));
        // The simple task's statements with their values (ids and timestamps; no secret is ever
        // bound: values are sealed before D1), replayed by bench/d1-busy.py to time them in SQLite.
        const simpleTask = (trace["task.1ref"] ?? []).map(({ text, args, roundTrip }) => ({ sql: text, args, roundTrip }));
        return Response.json({ prices: PRICES, assumptions: ASSUMPTIONS, operations, simpleTask });
      }
      if (url.pathname === "/gateway-fixture") {
        await gatewayFixture(env, await request.json());
        return Response.json({ ok: true });
      }
      if (url.pathname === "/proxy-cost") {
        const counts = await measureProxyWarmPath(env, { key: url.searchParams.get("key") ?? "", url: url.searchParams.get("url") ?? "", requests: Number(url.searchParams.get("n") ?? "50") });
        return Response.json(counts);
      }
      const op = await prepare(env, url, request.headers);
      const loop = url.pathname === "/loop";
      const n = loop ? Math.max(1, Number(url.searchParams.get("n") ?? "1")) : 1;
      const chunk = loop ? Math.max(1, Number(url.searchParams.get("chunk") ?? "10")) : 1;
      const chunks: number[] = [];
      const started = performance.now();
      for (let done = 0; done < n; ) {
        const size = Math.min(chunk, n - done);
        const chunkStarted = performance.now();
        for (let i = 0; i < size; i++) await op();
        chunks.push((performance.now() - chunkStarted) / size);
        done += size;
      }
      const ms = performance.now() - started;
      return new Response(JSON.stringify({ n, ms, chunk, chunks }), {
        headers: { "content-type": "application/json", "x-inworker-ms": String(ms) },
      });
    } catch (error) {
      return new Response(JSON.stringify({ error: String(error) }), { status: 500, headers: { "content-type": "application/json" } });
    }
  },
} satisfies ExportedHandler<Env>;
