/**
 * Issue 16, tasks people expect from a queue: each attempt in GET /v1/tasks/:id, re-running a
 * failed task (POST /v1/tasks/:id/retry), and list filters that stay on an index.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { QueueMessage } from "../src/queue/messages";
import { retryTask } from "../src/tasks/service";
import { call, newTeam, newToken } from "./helpers/api";
import { CANARY } from "./helpers/constants";
import { apiKeyContext } from "./helpers/context";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

async function runBatch(queue: string, messages: QueueMessage[]) {
  const batch = createMessageBatch<QueueMessage>(queue, messages.map((body, i) => ({ id: `msg-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

const due = (id: string) => env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), id).run();
const getTask = async (key: string, id: string) => (await call("GET", `/v1/tasks/${id}`, { key })).json.task;

/** A delayed task (so the real queue leaves it alone) that the test drives with batches. */
async function heldTask(key: string, body: Record<string, unknown>) {
  const created = await call("POST", "/v1/tasks", { key, body: { delay: 600, ...body } });
  expect(created.status).toBe(201);
  return created.json.task.id as string;
}

/** Fails a held task: every attempt answers 503. */
async function failedTask(team: Awaited<ReturnType<typeof newTeam>>, extra: Record<string, unknown> = {}) {
  const up = upstreamNamespace();
  const id = await heldTask(team.key, { targetUrl: up.url("status/503"), maxRetries: 1, retryBackoff: "linear", ...extra });
  const message: QueueMessage = { type: "task.execute", taskId: id, teamId: team.team.id };
  await due(id);
  await runBatch("token-vault-tasks", [message]);
  await due(id);
  await runBatch("token-vault-tasks", [message]);
  return { id, up, message };
}

describe("attempt history", () => {
  it("shows every attempt with its times, status code, duration and error; `attempts` stays the count", async () => {
    const team = await newTeam();
    const { id, up } = await failedTask(team);
    const task = await getTask(team.key, id);
    expect(task).toMatchObject({ status: "failed", attempts: 2, runs: 1, error: "Target answered 503" });
    expect(task.attemptHistory).toHaveLength(2);
    for (const [i, attempt] of (task.attemptHistory as Record<string, unknown>[]).entries()) {
      expect(attempt).toEqual({
        run: 1,
        attempt: i + 1,
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
        durationMs: expect.any(Number),
        statusCode: 503,
        error: "Target answered 503",
      });
      expect(Date.parse(attempt.finishedAt as string)).toBeGreaterThanOrEqual(Date.parse(attempt.startedAt as string));
    }
    expect(await up.records()).toHaveLength(2);
  });

  it("records an attempt that got no answer, and a successful one without an error", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const id = await heldTask(team.key, { targetUrl: "https://api.example.com/x", headers: { Authorization: ref }, maxRetries: 0 });
    await call("DELETE", `/v1/tokens/${ref}`, { key: team.key });
    await due(id);
    await runBatch("token-vault-tasks", [{ type: "task.execute", taskId: id, teamId: team.team.id }]);
    const failed = await getTask(team.key, id);
    expect(failed.attemptHistory).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, error: expect.stringContaining(ref) })]);

    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok") } });
    const done = await awaitTask(team.key, created.json.task.id);
    expect(done.status).toBe("completed");
    expect(done.attemptHistory).toEqual([expect.objectContaining({ run: 1, attempt: 1, statusCode: 200, error: null, finishedAt: expect.any(String) })]);
    // Lists stay light: no history there.
    const listed = (await call("GET", "/v1/tasks", { key: team.key })).json.tasks;
    expect(listed.every((t: Record<string, unknown>) => !("attemptHistory" in t))).toBe(true);
  });

  it("closes a dead-lettered attempt with the task's error", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const id = await heldTask(team.key, { targetUrl: up.url("ok") });
    // A consumer took it and died: processing, with an open attempt.
    await due(id);
    const lease = new Date(Date.now() + 60_000).toISOString();
    await env.DB.batch([
      env.DB.prepare("UPDATE tasks SET status = 'processing', attempts = 1, lease_until = ? WHERE id = ?").bind(lease, id),
      env.DB.prepare("INSERT INTO task_attempts (task_id, run, attempt, started_at) VALUES (?, 1, 1, ?)").bind(id, new Date().toISOString()),
    ]);
    await runBatch("token-vault-tasks-dlq", [{ type: "task.execute", taskId: id, teamId: team.team.id }]);
    const task = await getTask(team.key, id);
    expect(task.status).toBe("failed");
    expect(task.attemptHistory).toEqual([expect.objectContaining({ attempt: 1, finishedAt: expect.any(String), error: expect.stringMatching(/dead-lettered/) })]);
  });
});

describe("POST /v1/tasks/:id/retry", () => {
  it("re-opens a failed task as a new run of the same task, audited, keeping its history", async () => {
    const team = await newTeam();
    const { id, up } = await failedTask(team);
    const res = await call("POST", `/v1/tasks/${id}/retry`, { key: team.key });
    expect(res.status).toBe(200);
    expect(res.json.task).toMatchObject({ id, status: "pending", attempts: 0, runs: 2, error: null, result: null, completedAt: null });
    expect(res.json.task.attemptHistory).toHaveLength(2);

    const audit = (await call("GET", `/v1/audit?action=task.retried&targetId=${id}`, { key: team.key })).json.entries;
    expect(audit).toEqual([expect.objectContaining({ action: "task.retried", target: { type: "task", id }, actor: { type: "api_key", id: team.apiKey.id }, metadata: { fromStatus: "failed", run: 2 } })]);

    // The re-opened run goes through the real queue like a new task: two more 503s, failed again.
    const after = await awaitTask(team.key, id);
    expect(after).toMatchObject({ status: "failed", attempts: 2, runs: 2 });
    expect(after.attemptHistory.map((a: { run: number; attempt: number; statusCode: number }) => [a.run, a.attempt, a.statusCode])).toEqual([
      [1, 1, 503],
      [1, 2, 503],
      [2, 1, 503],
      [2, 2, 503],
    ]);
    expect(await up.records()).toHaveLength(4);
  });

  it("re-opens timed-out and dead-lettered tasks too", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const dead = await heldTask(team.key, { targetUrl: up.url("ok") });
    await runBatch("token-vault-tasks-dlq", [{ type: "task.execute", taskId: dead, teamId: team.team.id }]);
    expect((await getTask(team.key, dead)).status).toBe("failed");
    expect((await call("POST", `/v1/tasks/${dead}/retry`, { key: team.key })).status).toBe(200);
    expect((await awaitTask(team.key, dead)).status).toBe("completed");

    const slow = await heldTask(team.key, { targetUrl: up.url("ok") });
    await env.DB.prepare("UPDATE tasks SET status = 'timeout', error = 'Attempt timed out after 1 s' WHERE id = ?").bind(slow).run();
    const res = await call("POST", `/v1/tasks/${slow}/retry`, { key: team.key });
    expect(res.status).toBe(200);
    expect(res.json.task.status).toBe("pending");
  });

  it("answers 409 task_not_retryable for a task in any other state, changing nothing", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const pending = await heldTask(team.key, { targetUrl: up.url("ok") });
    const cancelled = await heldTask(team.key, { targetUrl: up.url("ok") });
    await call("POST", `/v1/tasks/${cancelled}/cancel`, { key: team.key });
    const completed = (await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok") } })).json.task.id;
    expect((await awaitTask(team.key, completed)).status).toBe("completed");
    for (const [id, status] of [[pending, "delayed"], [cancelled, "cancelled"], [completed, "completed"]] as const) {
      const res = await call("POST", `/v1/tasks/${id}/retry`, { key: team.key });
      expect(res.status).toBe(409);
      expect(res.json).toEqual({ error: `Task cannot be retried in status ${status}: only failed or timed-out tasks can`, code: "task_not_retryable", status });
      expect((await getTask(team.key, id)).status).toBe(status);
    }
    expect((await call("GET", "/v1/audit?action=task.retried", { key: team.key })).json.entries).toEqual([]);
  });

  it("re-validates references: a token revoked since gives 400 token_unavailable and leaves the task failed", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const { id } = await failedTask(team, { headers: { Authorization: `Bearer ${ref}` } });
    await call("DELETE", `/v1/tokens/${ref}`, { key: team.key });
    const res = await call("POST", `/v1/tasks/${id}/retry`, { key: team.key });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: "token_unavailable", invalidReferences: [ref] });
    expect(await getTask(team.key, id)).toMatchObject({ status: "failed", runs: 1 });
    expect((await call("GET", "/v1/audit?action=task.retried", { key: team.key })).json.entries).toEqual([]);
    expect(res.text).not.toContain(CANARY);
  });

  it("re-checks the URL policy", async () => {
    const team = await newTeam();
    const { id } = await failedTask(team);
    const strict = await apiKeyContext(team, { ...env, ALLOW_LOOPBACK_TARGETS: "false" });
    await expect(retryTask(strict, id)).rejects.toMatchObject({ status: 400, code: "url_not_allowed" });
    expect((await getTask(team.key, id)).status).toBe("failed");
  });

  it("keeps teams apart", async () => {
    const a = await newTeam();
    const b = await newTeam();
    const { id } = await failedTask(a);
    expect((await call("POST", `/v1/tasks/${id}/retry`, { key: b.key })).status).toBe(403);
    expect((await getTask(a.key, id)).status).toBe("failed");
  });
});

describe("GET /v1/tasks filters", () => {
  it("filters by status, provider and creation time, with cursor pagination", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const first = await heldTask(team.key, { targetUrl: up.url("ok") });
    const between = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const second = await heldTask(team.key, { targetUrl: up.url("ok"), provider: "replicate" });
    const third = await heldTask(team.key, { targetUrl: up.url("ok"), provider: "replicate" });
    await call("POST", `/v1/tasks/${third}/cancel`, { key: team.key });
    const ids = async (query: string) => {
      const res = await call("GET", `/v1/tasks?${query}`, { key: team.key });
      expect(res.status, query).toBe(200);
      return res.json.tasks.map((t: { id: string }) => t.id);
    };
    expect(await ids("status=delayed")).toEqual([second, first]);
    expect(await ids("provider=replicate")).toEqual([third, second]);
    expect(await ids("provider=replicate&status=cancelled")).toEqual([third]);
    expect(await ids(`createdAfter=${encodeURIComponent(between)}`)).toEqual([third, second]);
    expect(await ids(`createdBefore=${encodeURIComponent(between)}`)).toEqual([first]);
    expect(await ids(`createdAfter=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toEqual([]);
    const page1 = await call("GET", `/v1/tasks?provider=replicate&limit=1`, { key: team.key });
    expect(page1.json.pagination).toMatchObject({ total: 2, hasMore: true, nextCursor: third });
    expect(await ids(`provider=replicate&limit=1&cursor=${third}`)).toEqual([second]);
    for (const bad of ["createdAfter=yesterday", "provider=openai", "createdBefore=2026-01-01"]) {
      const res = await call("GET", `/v1/tasks?${bad}`, { key: team.key });
      expect(res.status, bad).toBe(400);
      expect(res.json.code).toBe("validation_failed");
    }
  });

  it("reads each filter from an index, never a scan of the table", async () => {
    const plans: Record<string, string> = {
      "team+status": "SELECT * FROM tasks WHERE team_id = ? AND status = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      "team+provider": "SELECT * FROM tasks WHERE team_id = ? AND provider = ? ORDER BY id DESC LIMIT ? OFFSET ?",
      "team+time": "SELECT * FROM tasks WHERE team_id = ? AND id >= ? AND created_at >= ? AND id < ? AND created_at < ? ORDER BY id DESC LIMIT ? OFFSET ?",
      "team+status+time+cursor": "SELECT * FROM tasks WHERE team_id = ? AND status = ? AND id >= ? AND created_at >= ? AND id < ? ORDER BY id DESC LIMIT ?",
      history: "SELECT a.* FROM task_attempts a JOIN tasks t ON t.id = a.task_id WHERE a.task_id = ? AND t.team_id = ? ORDER BY a.run, a.attempt",
    };
    for (const [name, sql] of Object.entries(plans)) {
      const args = [...sql.matchAll(/\?/g)].map(() => "x");
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...args).all<{ detail: string }>();
      const details = results.map((r) => r.detail);
      expect(details.filter((d) => /^SCAN /.test(d)), `${name}: ${details.join(" | ")}`).toEqual([]);
      expect(details.join(" "), name).toMatch(/SEARCH .* USING (COVERING )?(INDEX|PRIMARY KEY)/);
    }
  });
});
