import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { listAuditEntries } from "../src/audit/audit";
import type { Env } from "../src/env";
import { purgeExpired } from "../src/retention/retention";
import { executeTask } from "../src/tasks/execute";
import type { TaskRow } from "../src/tasks/model";
import { executionHint } from "../src/tasks/references";
import { createTask, listTasks } from "../src/tasks/service";
import { sweepStalledTasks } from "../src/tasks/sweeper";
import { listTokens } from "../src/vault/tokens";
import { newTeam, newToken } from "./helpers/api";
import { apiKeyContext } from "./helpers/context";
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

/**
 * Row sources the queries build themselves, bounded by their LIMIT or by the request (`w`: the
 * VALUES list of a task's references and their pinned versions): scanning them is fine.
 */
const BOUNDED_CTES = new Set(["chunk", "c", "w"]);

async function fullScans(db: D1Database, { sql, args }: Recorded): Promise<string[]> {
  const { results } = await db.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...args).all<{ detail: string }>();
  // "SCAN tasks" alone walks the whole table; "SCAN ... USING INDEX" walks an index in order.
  return results
    .map((r) => r.detail)
    .filter((d) => /^SCAN /.test(d) && !/USING (COVERING )?INDEX|CONSTANT ROW/.test(d) && !BOUNDED_CTES.has(d.split(" ")[1] ?? ""));
}

async function expectNoFullScan(db: D1Database, queries: Recorded[], path: string) {
  expect(queries.length, `${path}: no query recorded`).toBeGreaterThan(0);
  for (const query of queries) {
    expect(await fullScans(db, query), `${path}: ${query.sql}`).toEqual([]);
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
});
