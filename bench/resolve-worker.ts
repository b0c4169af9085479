/**
 * Bench-only Worker (never deployed). `npm run bench` bundles it with esbuild and runs it in
 * the same Miniflare instance as the real Worker, sharing its D1 database and its
 * TeamRateLimiter Durable Object class, so the vault and rate-limit code paths can be timed
 * in isolation with the real bindings:
 *
 *   GET /noop                              nothing (the round-trip baseline)
 *   GET /d1                                one D1 primary-key lookup (the "one D1 query" baseline)
 *   GET /resolve?team=<id>&ids=a,b,c       resolveTokens() for that team (task actor, as the consumer does)
 *   GET /rl?team=<key>&limit=<n>           one TeamRateLimiter.consume(limit) via rateLimiterFor()
 *   GET /loop?op=d1|resolve|rl|noop&n=<n>&...   n sequential calls inside the Worker
 *
 * Every answer carries `X-Inworker-Ms`: time measured inside the Worker around the operation
 * (workerd's clock only moves on I/O, so it covers the operation up to its last I/O). No
 * resolved value ever leaves this Worker; only counts are returned.
 */
import type { Env } from "../src/env";
import { rateLimiterFor } from "../src/ratelimit/limiter";
import { resolveTokens } from "../src/vault/tokens";

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

type Op = () => Promise<unknown>;

async function prepare(env: Env, url: URL): Promise<Op> {
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
        const values = await resolveTokens(
          env,
          { team: { teamId, salt }, actor: { type: "task", id: "task_bench", apiKeyId: "key_bench" }, requestId: "req_bench" },
          ids,
        );
        if (values.size !== ids.length) throw new Error(`resolved ${values.size} of ${ids.length}`);
        values.clear();
      };
    }
    case "rl": {
      const limiter = rateLimiterFor(env, q.get("team") ?? "bench");
      const limit = Number(q.get("limit") ?? "1000000000");
      return async () => {
        const decision = await limiter.consume(limit);
        if (!decision.allowed) throw new Error("bench limiter refused");
      };
    }
    default:
      throw new Error(`unknown op in ${url.pathname}`);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    try {
      const op = await prepare(env, url);
      const n = url.pathname === "/loop" ? Math.max(1, Number(url.searchParams.get("n") ?? "1")) : 1;
      const started = performance.now();
      for (let i = 0; i < n; i++) await op();
      const ms = performance.now() - started;
      return new Response(JSON.stringify({ n, ms }), {
        headers: { "content-type": "application/json", "x-inworker-ms": String(ms) },
      });
    } catch (error) {
      return new Response(JSON.stringify({ error: String(error) }), { status: 500, headers: { "content-type": "application/json" } });
    }
  },
} satisfies ExportedHandler<Env>;
