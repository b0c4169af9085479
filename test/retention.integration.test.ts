import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { idTimeBound } from "../src/ids";
import { BATCH, MAX_BATCHES, purgeExpired, requestLogRetentionDays } from "../src/retention/retention";
import { call, newTeam, newToken } from "./helpers/api";

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

/** A request-log row as the proxy writes it `daysAgo` days ago (its id and created_at agree). */
function logRow(teamId: string, daysAgo: number, id = oldId("plog", daysAgo)) {
  return env.DB
    .prepare("INSERT INTO proxy_log (id, team_id, api_key_id, method, host, path, service, credential_keys, status, error_code, duration_ms, created_at) VALUES (?, ?, NULL, 'GET', 'api.example.com', '/v1/x', NULL, '[]', 200, NULL, 3, ?)")
    .bind(id, teamId, new Date(Date.now() - daysAgo * DAY).toISOString());
}

const purgeAudits = async (key: string, action: string) => (await call("GET", `/v1/audit?action=${action}&limit=100`, { key })).json.entries as { actor: unknown; target: unknown; metadata: Record<string, unknown> }[];

describe("retention of the request log per plan", () => {
  it("deletes Free rows after 7 days and Pro rows after 30, keeps newer ones, and audits the purge per team", async () => {
    const free = await newTeam("free");
    const pro = await newTeam("pro");
    const rows: [string, number][] = [[free.team.id, 8], [free.team.id, 20], [free.team.id, 6], [pro.team.id, 8], [pro.team.id, 31]];
    const [freeOld8, freeOld20, freeNew, proMid, proOld] = rows.map(([, days]) => oldId("plog", days)) as [string, string, string, string, string];
    const freeOld = [freeOld8, freeOld20];
    await env.DB.batch(rows.map(([teamId, days], i) => logRow(teamId, days, [freeOld8, freeOld20, freeNew, proMid, proOld][i])));

    await purgeExpired(env);

    for (const gone of [...freeOld, proOld]) expect(await exists("proxy_log", "id", gone), gone).toBe(0);
    for (const kept of [freeNew, proMid]) expect(await exists("proxy_log", "id", kept), kept).toBe(1);
    const freeAudit = await purgeAudits(free.key, "request_log.purged");
    expect(freeAudit).toHaveLength(1);
    expect(freeAudit[0]).toMatchObject({ actor: { type: "system", id: "retention" }, target: { type: "team", id: free.team.id }, metadata: { entries: 2, retentionDays: 7 } });
    const proAudit = await purgeAudits(pro.key, "request_log.purged");
    expect(proAudit).toHaveLength(1);
    expect(proAudit[0]?.metadata).toMatchObject({ entries: 1, retentionDays: 30 });

    // Nothing more is due: a second run deletes and audits nothing of these teams'.
    await purgeExpired(env);
    expect(await purgeAudits(free.key, "request_log.purged")).toHaveLength(1);
    expect(await exists("proxy_log", "id", freeNew)).toBe(1);
  });

  it("PROXY_LOG_RETENTION_DAYS only shortens the plan's retention", () => {
    expect([requestLogRetentionDays({}, "free"), requestLogRetentionDays({}, "pro")]).toEqual([7, 30]);
    expect([requestLogRetentionDays({ PROXY_LOG_RETENTION_DAYS: "10" }, "free"), requestLogRetentionDays({ PROXY_LOG_RETENTION_DAYS: "10" }, "pro")]).toEqual([7, 10]);
    expect(requestLogRetentionDays({ PROXY_LOG_RETENTION_DAYS: "90" }, "pro")).toBe(30);
    for (const invalid of ["", "abc", "0", "-3"]) expect(requestLogRetentionDays({ PROXY_LOG_RETENTION_DAYS: invalid }, "pro"), invalid).toBe(30);
  });

  it("works off a backlog larger than one run's budget over several runs, BATCH rows a statement", async () => {
    const team = await newTeam("free");
    const total = BATCH * MAX_BATCHES + 100;
    // One statement: `total` rows aged 10 days, ids in creation order.
    const prefix = idTimeBound("plog", Date.now() - 10 * DAY);
    await env.DB
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO proxy_log (id, team_id, method, host, path, credential_keys, status, duration_ms, created_at)
         SELECT ? || printf('%016d', i), ?, 'GET', 'api.example.com', '/v1/x', '[]', 200, 3, ? FROM n`,
      )
      .bind(total, prefix, team.team.id, new Date(Date.now() - 10 * DAY).toISOString())
      .run();
    const remaining = async () => (await env.DB.prepare("SELECT COUNT(*) AS n FROM proxy_log WHERE team_id = ?").bind(team.team.id).first<{ n: number }>())?.n;
    expect(await remaining()).toBe(total);

    await purgeExpired(env);
    expect(await remaining()).toBe(100);
    await purgeExpired(env);
    expect(await remaining()).toBe(0);

    // One audit entry per team per batch: each counts at most BATCH rows, all of them together.
    const audits = await purgeAudits(team.key, "request_log.purged");
    expect(audits).toHaveLength(MAX_BATCHES + 1);
    for (const a of audits) expect(a.metadata.entries as number).toBeLessThanOrEqual(BATCH);
    expect(audits.reduce((sum, a) => sum + (a.metadata.entries as number), 0)).toBe(total);
  });
});

describe("retention of decided proposals and ended leases", () => {
  async function insertProposal(teamId: string, status: string, decidedDaysAgo: number | null, createdDaysAgo: number): Promise<string> {
    const id = oldId("prop", createdDaysAgo);
    const at = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    await env.DB
      .prepare("INSERT INTO proposals (id, team_id, api_key_id, status, message, services, slots, created_at, expires_at, decided_at) VALUES (?, ?, 'key_x', ?, '', '[]', '[]', ?, ?, ?)")
      .bind(id, teamId, status, at(createdDaysAgo), at(createdDaysAgo - 7), decidedDaysAgo === null ? null : at(decidedDaysAgo))
      .run();
    return id;
  }

  it("deletes proposals decided longer ago than the plan's task retention, keeps pending and newer ones, and audits per team", async () => {
    const free = await newTeam("free");
    const pro = await newTeam("pro");
    const gone = [await insertProposal(free.team.id, "approved", 8, 9), await insertProposal(free.team.id, "rejected", 12, 12), await insertProposal(free.team.id, "expired", 10, 17), await insertProposal(pro.team.id, "approved", 31, 31)];
    const kept = [
      await insertProposal(free.team.id, "approved", 6, 8), // decided recently, though created long ago
      await insertProposal(free.team.id, "pending", null, 3),
      await insertProposal(pro.team.id, "rejected", 8, 8),
    ];

    await purgeExpired(env);

    for (const id of gone) expect(await exists("proposals", "id", id), id).toBe(0);
    for (const id of kept) expect(await exists("proposals", "id", id), id).toBe(1);
    const freeAudit = await purgeAudits(free.key, "proposals.purged");
    expect(freeAudit).toHaveLength(1);
    expect(freeAudit[0]).toMatchObject({ actor: { type: "system", id: "retention" }, target: { type: "team", id: free.team.id }, metadata: { proposals: 3, retentionDays: 7 } });
    expect((await purgeAudits(pro.key, "proposals.purged"))[0]?.metadata).toMatchObject({ proposals: 1, retentionDays: 30 });
  });

  it("deletes leases that ended (revoked, or expired and recorded) longer ago than the retention; keeps active, newer and unrecorded ones", async () => {
    const free = await newTeam("free");
    const pro = await newTeam("pro");
    const tokenOf = async (key: string) => newToken(key, "lease-retention-value");
    const [freeToken, proToken] = [await tokenOf(free.key), await tokenOf(pro.key)];
    const at = (days: number) => new Date(Date.now() - days * DAY).toISOString();
    const lease = async (teamId: string, tokenId: string, created: number, expires: number, revoked: number | null, noted: number | null) => {
      const id = oldId("lease", created);
      await env.DB
        .prepare(
          `INSERT INTO leases (id, team_id, token_id, version, identity_type, identity_name, actor_type, actor_id, created_at, expires_at, max_expires_at, revoked_at, ended_noted_at)
           VALUES (?, ?, ?, 1, 'agent', 'ci', 'api_key', 'key_x', ?, ?, ?, ?, ?)`,
        )
        .bind(id, teamId, tokenId, at(created), at(expires), at(expires), revoked === null ? null : at(revoked), noted === null ? null : at(noted))
        .run();
      return id;
    };
    const gone = [await lease(free.team.id, freeToken, 9, 8, null, 8), await lease(free.team.id, freeToken, 10, 5, 9, null), await lease(pro.team.id, proToken, 32, 31, null, 31)];
    const kept = [
      await lease(free.team.id, freeToken, 9, 6, null, 6), // ended 6 days ago
      await lease(free.team.id, freeToken, 9, 8, null, null), // expired, but the sweeper has not recorded it yet
      await lease(free.team.id, freeToken, 9, -1, null, null), // still active
      await lease(pro.team.id, proToken, 9, 8, null, 8),
    ];

    const report = await purgeExpired(env);

    expect(report.leases).toBeGreaterThanOrEqual(3);
    for (const id of gone) expect(await exists("leases", "id", id), id).toBe(0);
    for (const id of kept) expect(await exists("leases", "id", id), id).toBe(1);
    const freeAudit = await purgeAudits(free.key, "leases.purged");
    expect(freeAudit).toHaveLength(1);
    expect(freeAudit[0]).toMatchObject({ actor: { type: "system", id: "retention" }, target: { type: "team", id: free.team.id }, metadata: { leases: 2, retentionDays: 7 } });
    expect((await purgeAudits(pro.key, "leases.purged"))[0]?.metadata).toMatchObject({ leases: 1, retentionDays: 30 });
  });
});

describe("retention of OAuth connect flows", () => {
  it("deletes flows a day past their expiry and keeps recent ones", async () => {
    const team = await newTeam("pro");
    const state = (expiresAgoMs: number) => {
      const hash = crypto.randomUUID();
      const expires = new Date(Date.now() - expiresAgoMs).toISOString();
      return {
        hash,
        insert: env.DB
          .prepare("INSERT INTO oauth_states (state_hash, team_id, key_name, actor_type, actor_id, redirect_uri, config, sealed, created_at, expires_at) VALUES (?, ?, 'KEY', 'api_key', 'key_x', 'https://vault.test/cb', '{}', '{}', ?, ?)")
          .bind(hash, team.team.id, expires, expires),
      };
    };
    const old = state(2 * DAY);
    const lately = state(3600_000); // expired an hour ago: a late click still says "expired"
    const open = state(-600_000);
    await env.DB.batch([old.insert, lately.insert, open.insert]);

    const report = await purgeExpired(env);

    expect(report.oauthStates).toBeGreaterThanOrEqual(1);
    expect(await exists("oauth_states", "state_hash", old.hash)).toBe(0);
    expect(await exists("oauth_states", "state_hash", lately.hash)).toBe(1);
    expect(await exists("oauth_states", "state_hash", open.hash)).toBe(1);
  });
});
