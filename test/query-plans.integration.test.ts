import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { listAuditEntries } from "../src/audit/audit";
import { ALL_SCOPES } from "../src/auth/scopes";
import type { Env } from "../src/env";
import { flushProxyLog } from "../src/gateway/request-log";
import { idTimeBound } from "../src/ids";
import worker from "../src/index";
import { loadById, loadByKey } from "../src/oauth/store";
import { expireProposals } from "../src/proposals/expiry";
import { purgeExpired } from "../src/retention/retention";
import { executeTask } from "../src/tasks/execute";
import type { TaskRow } from "../src/tasks/model";
import { executionHint } from "../src/tasks/references";
import { createTask, listTasks } from "../src/tasks/service";
import { sweepStalledTasks } from "../src/tasks/sweeper";
import { sweepVault } from "../src/vault/sweeper";
import { listTokens } from "../src/vault/tokens";
import { createKey } from "./helpers/accounts";
import { call, newTeam, newToken } from "./helpers/api";
import { apiKeyContext } from "./helpers/context";
import { putService, putVaultKey, upstreamAuthority } from "./helpers/gateway";
import { proOwner } from "./helpers/store";
import { upstreamNamespace } from "./helpers/tasks";

/**
 * Every query the hot paths run, recorded as the code prepares it (SQL and bound values), is
 * checked with EXPLAIN QUERY PLAN: none may walk a whole table (`SCAN <table>` without an
 * index). A new query or a dropped index that would scan fails here with the query's text.
 */
interface Recorded {
  sql: string;
  args: unknown[];
}

function recording(real: Env) {
  const seen: Recorded[] = [];
  const watch = (statement: D1PreparedStatement, entry: Recorded): D1PreparedStatement => {
    const bind = statement.bind.bind(statement);
    return Object.assign(statement, { bind: (...args: unknown[]) => watch(bind(...args), (seen.push({ sql: entry.sql, args }), seen[seen.length - 1]!)) });
  };
  const DB = new Proxy(real.DB, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => watch(target.prepare(sql), { sql, args: [] });
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { env: { ...real, DB } as Env, seen };
}

const DAY = 24 * 3600 * 1000;

/**
 * Row sources the queries build themselves, bounded by their LIMIT or by the request (`w`: the
 * VALUES list of a task's references and their pinned versions): scanning them is fine.
 */
const BOUNDED_CTES = new Set(["chunk", "c", "w"]);

async function fullScans(db: D1Database, { sql, args }: Recorded): Promise<string[]> {
  const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...args).all<{ detail: string }>();
  // "SCAN tasks" alone walks the whole table; "SCAN ... USING INDEX" walks an index in order;
  // "SCAN j VIRTUAL TABLE" walks json_each of one value (a row's column or a bound argument).
  return results
    .map((r) => r.detail)
    .filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX|CONSTANT ROW|VIRTUAL TABLE/.test(d) && !BOUNDED_CTES.has(d.split(" ")[1] ?? ""));
}

/** The Worker's fetch handler under the recording Env (its waitUntil work awaited); the answer must be a success. */
function recordedFetch(recorded: Env) {
  return async (method: string, path: string, options: { bearer?: string; cookie?: string; body?: unknown } = {}) => {
    const pending: Promise<unknown>[] = [];
    const exec = { waitUntil: (p: Promise<unknown>) => void pending.push(p), passThroughOnException: () => undefined, props: {} } as unknown as ExecutionContext;
    const headers: Record<string, string> = {};
    if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
    if (options.cookie) headers.cookie = options.cookie;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const res = await worker.fetch(new Request(`https://vault.test${path}`, { method, headers, body: options.body === undefined ? null : JSON.stringify(options.body) }), recorded, exec);
    const text = await res.text();
    await Promise.allSettled(pending);
    expect(res.status, `${method} ${path}: ${text.slice(0, 300)}`).toBeLessThan(400);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route's own shape; the test reads an id or two
    return (res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : {}) as Record<string, any>;
  };
}

async function expectNoFullScan(db: D1Database, queries: Recorded[], path: string) {
  expect(queries.length, `${path}: no query recorded`).toBeGreaterThan(0);
  for (const query of queries) {
    // Soft: one run names every query that scans, not just the first.
    expect.soft(await fullScans(db, query), `${path}: ${query.sql}`).toEqual([]);
  }
}

describe("query plans of the hot paths", () => {
  it("use an index for every query: task creation, claim + resolution, completion, lists, sweeper, retention", async () => {
    const team = await newTeam();
    const token = await newToken(team.key, "plan-check-value");
    const upstream = upstreamNamespace();

    const rec = recording(env);
    const ctx = await apiKeyContext(team, rec.env);
    const { task } = await createTask(ctx, { targetUrl: upstream.url("/ok"), method: "POST", headers: { authorization: `Bearer ${token}` }, timeout: 10, maxRetries: 0, retryBackoff: "linear" }, undefined);
    await expectNoFullScan(env.DB, rec.seen.splice(0), "task creation");

    // As queued (the message's hint: claim + resolution in one batch), then the same without it.
    const row = await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(task.id).first<TaskRow>();
    await executeTask(rec.env, { taskId: task.id, teamId: ctx.team.id, run: executionHint(row!, ctx.team.plan) });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "task execution (claim + resolution, completion)");
    const again = await createTask(ctx, { targetUrl: upstream.url("/ok"), method: "POST", headers: { authorization: `Bearer ${token}` }, timeout: 10, maxRetries: 0, retryBackoff: "linear" }, undefined);
    rec.seen.splice(0);
    await executeTask(rec.env, { taskId: again.task.id, teamId: ctx.team.id });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "task execution without a hint (load, claim + resolution, completion)");

    await listTasks(ctx, { limit: 10, offset: 0 });
    await listTasks(ctx, { limit: 10, offset: 0, status: "completed" });
    await listTasks(ctx, { limit: 10, offset: 0, provider: "openai" });
    await listTasks(ctx, { limit: 10, offset: 0, createdAfter: new Date(Date.now() - 3600_000).toISOString(), createdBefore: new Date().toISOString() });
    await listTasks(ctx, { limit: 10, offset: 0, cursor: task.id });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "GET /v1/tasks with filters");

    await listTokens(ctx, { limit: 10, offset: 0 });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "GET /v1/tokens");

    await listAuditEntries(ctx, { limit: 10, offset: 0 });
    await listAuditEntries(ctx, { limit: 10, offset: 0, action: "token.accessed" });
    await listAuditEntries(ctx, { limit: 10, offset: 0, targetId: token });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "GET /v1/audit with filters");

    // A sweep that finds something runs its re-send too; the first queries are its scans.
    await sweepStalledTasks(rec.env, Date.now() + 3600_000);
    await expectNoFullScan(env.DB, rec.seen.splice(0), "the sweeper's scan");

    await purgeExpired(rec.env, Date.now());
    await expectNoFullScan(env.DB, rec.seen.splice(0), "the retention purge");
  });

  it("use an index for every query of the newer paths: proxy and its log, leases, runtime secrets, proposals, OAuth, portal lists, the cron", async () => {
    const owner = await proOwner("plans");
    const vault = owner.team.id;
    const created = await createKey(owner.token, vault, { name: "all", scopes: [...ALL_SCOPES] });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    await putVaultKey(vault, "PLAN_KEY", "plan-check-value");
    await putService(vault, { name: "plans", host: upstreamAuthority(), auth: { type: "bearer", token: "PLAN_KEY" } });
    expect((await call("POST", "/v1/credentials", { key, body: { name: "plan-cred", type: "api-key", value: "plan-cred-value", policy: { maxLeases: 5 } } })).status).toBe(201);
    expect((await call("POST", "/vault/secrets", { key, body: { name: "plan_secret", value: "plan-secret-value", expiresAt: "2099-01-01T00:00:00Z" } })).status).toBe(201);

    const rec = recording(env);
    const fetch = recordedFetch(rec.env);

    // A cold proxied request loads the team's service rules and sealed credential values.
    await fetch("GET", `/s/plans/ns/plans-${crypto.randomUUID()}/ok`, { bearer: key });
    await flushProxyLog(rec.env);
    await expectNoFullScan(env.DB, rec.seen.splice(0), "a proxied request (service rules, credential values) and its request-log insert");

    const logs = await fetch("GET", `/v1/vaults/${vault}/logs?limit=1`, { bearer: key });
    await fetch("GET", `/v1/vaults/${vault}/logs?service=plans&status=200`, { bearer: key });
    await fetch("GET", `/v1/vaults/${vault}/logs?cursor=${logs.entries[0].id}`, { bearer: key });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "GET /v1/vaults/:vault/logs with filters");

    const lease = await fetch("POST", "/v1/leases", { bearer: key, body: { credentialName: "plan-cred", identity: { type: "agent", name: "plans" } } });
    await fetch("POST", `/v1/leases/${lease.lease.id}/renew`, { bearer: key, body: {} });
    await fetch("GET", "/v1/leases", { bearer: key });
    await fetch("GET", "/v1/leases?credentialName=plan-cred&identity=agent:plans&active=true", { bearer: key });
    await fetch("DELETE", `/v1/leases/${lease.lease.id}`, { bearer: key });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "leases: create, renew, list, revoke");

    await fetch("GET", "/vault/secrets/plan_secret", { bearer: key });
    await fetch("GET", `/v1/vaults/${vault}/credentials/PLAN_KEY`, { bearer: key });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "runtime retrieval (a named secret, a vault KEY)");

    const proposal = await fetch("POST", "/v1/proposals", { bearer: key, body: { message: "plans", services: [], credentials: [{ action: "set", key: "PROPOSED_KEY", value: "proposed-value" }] } });
    for (const status of ["", "?status=pending", "?status=expired", "?status=approved"]) await fetch("GET", `/v1/vaults/${vault}/proposals${status}`, { bearer: key });
    await fetch("GET", `/v1/vaults/${vault}/proposals/${proposal.proposal.id}`, { bearer: key });
    await fetch("GET", `/v1/proposals/${proposal.proposal.id}`, { bearer: key });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "proposals: create, list, read");

    await fetch("POST", `/v1/vaults/${vault}/credentials/PLAN_OAUTH/oauth/tokens`, { bearer: key, body: { access_token: "plan-oauth-access", expires_in: 3600 } });
    await fetch("GET", `/v1/vaults/${vault}/credentials/PLAN_OAUTH/oauth/status`, { bearer: key });
    const oauth = await loadByKey(rec.env, vault, "PLAN_OAUTH");
    expect(oauth).not.toBeNull();
    expect(await loadById(rec.env, vault, oauth!.token_id)).not.toBeNull();
    const provider = `${env.UPSTREAM_URL}/oauth/${crypto.randomUUID()}`;
    await fetch("POST", `/v1/vaults/${vault}/credentials/PLAN_CONNECT/oauth/connect`, { bearer: owner.token, body: { authorization_url: `${provider}/authorize`, token_url: `${provider}/token`, client_id: "client-1" } });
    await expectNoFullScan(env.DB, rec.seen.splice(0), "OAuth: paste, status, the credential's load, connect");

    const cookie = `__Host-tv_session=${owner.token}`;
    const secretId = (await env.DB.prepare("SELECT id FROM tokens WHERE team_id = ? AND name = 'plan_secret'").bind(vault).first<{ id: string }>())!.id;
    for (const page of ["/portal/vault", `/portal/vault/${secretId}`, "/portal/vault/keys", "/portal/vault/oauth", "/portal/keys", "/portal/audit", "/portal/tasks", "/portal/leases", "/portal/logs", "/portal/services", "/portal/proposals", `/portal/proposals/${proposal.proposal.id}`]) {
      await fetch("GET", page, { cookie });
    }
    await expectNoFullScan(env.DB, rec.seen.splice(0), "the portal's list pages");

    await sweepVault(rec.env, Date.now() + 3600_000);
    await expireProposals(rec.env, Date.now() + 30 * 86_400_000);
    await expectNoFullScan(env.DB, rec.seen.splice(0), "the cron's vault sweep and proposal expiry");

    // The retention purge with something of every kind due, so its deletes run too.
    const old = (prefix: string, days: number) => `${idTimeBound(prefix, Date.now() - days * DAY)}${"0".repeat(16)}`;
    const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    const taskId = old("task", 40);
    const tokenId = (await env.DB.prepare("SELECT id FROM tokens WHERE team_id = ? AND name = 'plan-cred'").bind(vault).first<{ id: string }>())!.id;
    await env.DB.batch([
      env.DB
        .prepare("INSERT INTO tasks (id, team_id, api_key_id, status, method, target_url, headers, timeout_s, max_retries, retry_backoff, run_at, created_at, updated_at) VALUES (?, ?, 'key_x', 'completed', 'GET', 'https://api.example.com', '{}', 30, 0, 'linear', ?, ?, ?)")
        .bind(taskId, vault, ago(40), ago(40), ago(40)),
      env.DB.prepare("INSERT INTO task_attempts (task_id, run, attempt, started_at) VALUES (?, 1, 1, ?)").bind(taskId, ago(40)),
      env.DB.prepare("INSERT INTO proxy_log (id, team_id, method, host, path, status, duration_ms, created_at) VALUES (?, ?, 'GET', 'h', '/', 200, 1, ?)").bind(old("plog", 40), vault, ago(40)),
      env.DB.prepare("INSERT INTO proposals (id, team_id, status, created_at, expires_at, decided_at) VALUES (?, ?, 'rejected', ?, ?, ?)").bind(old("prop", 40), vault, ago(40), ago(33), ago(40)),
      env.DB
        .prepare("INSERT INTO leases (id, team_id, token_id, version, identity_type, identity_name, actor_type, actor_id, created_at, expires_at, max_expires_at, revoked_at) VALUES (?, ?, ?, 1, 'agent', 'a', 'api_key', 'key_x', ?, ?, ?, ?)")
        .bind(old("lease", 40), vault, tokenId, ago(40), ago(39), ago(39), ago(40)),
      env.DB.prepare("INSERT INTO audit_log (id, team_id, actor_type, actor_id, action, target_type, target_id, request_id, created_at) VALUES (?, ?, 'admin', 'admin', 'plan.changed', 'team', ?, 'req_x', ?)").bind(old("aud", 400), vault, vault, ago(400)),
      env.DB.prepare("INSERT INTO oauth_states (state_hash, team_id, key_name, actor_type, actor_id, redirect_uri, config, sealed, created_at, expires_at) VALUES (?, ?, 'K', 'api_key', 'key_x', 'https://vault.test/cb', '{}', '{}', ?, ?)").bind(crypto.randomUUID(), vault, ago(3), ago(3)),
    ]);
    const report = await purgeExpired(rec.env);
    for (const [kind, n] of Object.entries(report)) expect(n, kind).toBeGreaterThan(0);
    await expectNoFullScan(env.DB, rec.seen.splice(0), "the retention purge (reads and deletes of every kind)");
  });
});
