import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { idTimeBound } from "../src/ids";
import { purgeExpired } from "../src/retention/retention";
import { call, newTeam } from "./helpers/api";

const DAY = 24 * 3600 * 1000;
/** An id as if minted `daysAgo` days ago (ids sort by creation time). */
const oldId = (prefix: string, daysAgo: number) => `${idTimeBound(prefix, Date.now() - daysAgo * DAY)}${crypto.randomUUID().replace(/-/g, "").slice(0, 16).replace(/[^0-9a-z]/g, "0")}`;

async function insertTask(teamId: string, daysAgo: number, status: string, attempts = 1): Promise<string> {
  const id = oldId("task", daysAgo);
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  await env.DB.batch([
    env.DB
      .prepare(
        `INSERT INTO tasks (id, team_id, api_key_id, status, method, target_url, headers, timeout_s, max_retries, retry_backoff, attempts, run_at, result, created_at, updated_at)
         VALUES (?, ?, 'key_x', ?, 'POST', 'https://api.example.com/x', '{}', 30, 0, 'linear', ?, ?, '{"statusCode":200}', ?, ?)`,
      )
      .bind(id, teamId, status, attempts, at, at, at),
    ...Array.from({ length: attempts }, (_, i) =>
      env.DB.prepare("INSERT INTO task_attempts (task_id, run, attempt, started_at, finished_at) VALUES (?, 1, ?, ?, ?)").bind(id, i + 1, at, at),
    ),
  ]);
  return id;
}

const exists = async (table: string, column: string, id: string) => (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`).bind(id).first<{ n: number }>())?.n ?? 0;

describe("retention", () => {
  it("purges final tasks and their attempts past the plan's retention, keeps newer and unfinished ones, and audits the purge per team", async () => {
    const free = await newTeam("free");
    const pro = await newTeam("pro");
    const freeOld = await insertTask(free.team.id, 8, "completed", 2);
    const freeOldFailed = await insertTask(free.team.id, 10, "failed", 1);
    const freeNew = await insertTask(free.team.id, 6, "completed", 1);
    const freeOldRunning = await insertTask(free.team.id, 9, "polling", 1);
    const proMid = await insertTask(pro.team.id, 8, "completed", 1);
    const proOld = await insertTask(pro.team.id, 31, "cancelled", 0);

    await purgeExpired(env);

    for (const gone of [freeOld, freeOldFailed, proOld]) {
      expect(await exists("tasks", "id", gone), gone).toBe(0);
      expect(await exists("task_attempts", "task_id", gone), gone).toBe(0);
    }
    for (const kept of [freeNew, freeOldRunning, proMid]) {
      expect(await exists("tasks", "id", kept), kept).toBe(1);
      expect(await exists("task_attempts", "task_id", kept), kept).toBe(1);
    }
    const freeAudit = await call("GET", "/v1/audit?action=tasks.purged", { key: free.key });
    expect(freeAudit.status).toBe(200);
    expect(freeAudit.json.entries).toHaveLength(1);
    expect(freeAudit.json.entries[0]).toMatchObject({ actor: { type: "system", id: "retention" }, target: { type: "team", id: free.team.id }, metadata: { tasks: 2, attempts: 3, retentionDays: 7 } });
    const proAudit = await call("GET", "/v1/audit?action=tasks.purged", { key: pro.key });
    expect(proAudit.json.entries).toHaveLength(1);
    expect(proAudit.json.entries[0].metadata).toMatchObject({ tasks: 1, attempts: 0, retentionDays: 30 });

    // A second run finds nothing more of these teams' and audits nothing more.
    await purgeExpired(env);
    expect((await call("GET", "/v1/audit?action=tasks.purged", { key: free.key })).json.entries).toHaveLength(1);
    expect(await exists("tasks", "id", freeNew)).toBe(1);
  });

  it("purges audit entries past AUDIT_RETENTION_DAYS, keeps newer ones, and records the purge", async () => {
    const team = await newTeam("pro");
    const entry = (id: string) =>
      env.DB
        .prepare("INSERT INTO audit_log (id, team_id, actor_type, actor_id, action, target_type, target_id, request_id, created_at) VALUES (?, ?, 'admin', 'admin', 'plan.changed', 'team', ?, 'req_x', ?)")
        .bind(id, team.team.id, team.team.id, new Date().toISOString());
    const old = [oldId("aud", 40), oldId("aud", 35)];
    const recent = oldId("aud", 20);
    await env.DB.batch([...old.map(entry), entry(recent)]);

    await purgeExpired({ ...env, AUDIT_RETENTION_DAYS: "30" });

    for (const id of old) expect(await exists("audit_log", "id", id)).toBe(0);
    expect(await exists("audit_log", "id", recent)).toBe(1);
    const purged = await call("GET", "/v1/audit?action=audit.purged", { key: team.key });
    expect(purged.json.entries).toHaveLength(1);
    expect(purged.json.entries[0]).toMatchObject({ actor: { type: "system", id: "retention" }, metadata: { entries: 2, retentionDays: 30 } });
  });
});

describe("retention of the proxy's request log", () => {
  it("deletes rows past PROXY_LOG_RETENTION_DAYS and keeps newer ones", async () => {
    const team = await newTeam("pro");
    const row = (id: string) =>
      env.DB
        .prepare("INSERT INTO proxy_log (id, team_id, api_key_id, method, host, path, service, credential_keys, status, error_code, duration_ms, created_at) VALUES (?, ?, NULL, 'GET', 'api.example.com', '/v1/x', NULL, '[]', 200, NULL, 3, ?)")
        .bind(id, team.team.id, new Date().toISOString());
    const old = [oldId("plog", 12), oldId("plog", 11)];
    const recent = oldId("plog", 9);
    await env.DB.batch([...old.map(row), row(recent)]);

    const report = await purgeExpired({ ...env, PROXY_LOG_RETENTION_DAYS: "10" });

    expect(report.proxyLogEntries).toBeGreaterThanOrEqual(2);
    for (const id of old) expect(await exists("proxy_log", "id", id)).toBe(0);
    expect(await exists("proxy_log", "id", recent)).toBe(1);
  });
});
