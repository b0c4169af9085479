import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { QueueMessage } from "../src/queue/messages";
import { createTask, type NewTask } from "../src/tasks/service";
import { call, newTeam, newToken } from "./helpers/api";
import { CANARY } from "./helpers/constants";
import { apiKeyContext } from "./helpers/context";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const base = (targetUrl: string): NewTask => ({ targetUrl, method: "POST", headers: {}, timeout: 10, maxRetries: 0, retryBackoff: "linear" });

/** Drives the consumer with a real message batch; also notes the delay asked of each retry. */
async function runBatch(queue: string, messages: QueueMessage[]) {
  const batch = createMessageBatch<QueueMessage>(queue, messages.map((body, i) => ({ id: `msg-${crypto.randomUUID()}-${i}`, timestamp: new Date(), attempts: 1, body })));
  const retryDelays: (number | undefined)[] = [];
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    // getQueueResult() does not report retry delays, so observe them on the way through.
    Object.defineProperty(message, "retry", { value: (options?: QueueRetryOptions) => (retryDelays.push(options?.delaySeconds), retry(options)) });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return { ...(await getQueueResult(batch, ctx)), retryDelays };
}

describe("creating tasks", () => {
  it("refuses unknown, revoked and other teams' references alike, naming them", async () => {
    const a = await newTeam();
    const b = await newTeam();
    const revoked = await newToken(a.key, CANARY);
    await call("DELETE", `/v1/tokens/${revoked}`, { key: a.key });
    const theirs = await newToken(b.key, CANARY);
    const unknown = "tok_01jrx7m2k0000000000000000a";
    const answers = [];
    for (const ref of [revoked, theirs, unknown]) {
      const res = await call("POST", "/v1/tasks", { key: a.key, body: { targetUrl: "https://api.example.com/x", headers: { Authorization: `Bearer ${ref}` } } });
      expect(res.status).toBe(400);
      expect(res.json.invalidReferences).toEqual([ref]);
      answers.push(res.json.error.replace(ref, "<ref>"));
    }
    expect(new Set(answers).size).toBe(1);
    expect((await call("GET", "/v1/tasks", { key: a.key })).json.tasks).toEqual([]);
  });

  it("validates the request with field paths and plan caps", async () => {
    const free = await newTeam("free");
    const cases: [unknown, RegExp][] = [
      [{}, /targetUrl/],
      [{ targetUrl: "https://x.example.com", method: "TRACE" }, /method/],
      [{ targetUrl: "https://x.example.com", headers: { "Bad Header": "x" } }, /headers/],
      [{ targetUrl: "https://x.example.com", headers: { "X-Inject": "a\r\nHost: evil" } }, /headers/],
      [{ targetUrl: "https://x.example.com", maxRetries: 11 }, /maxRetries/],
      [{ targetUrl: "https://x.example.com", delay: 5, delayUntil: new Date().toISOString() }, /delayUntil/],
      [{ targetUrl: "https://x.example.com", delayUntil: "tomorrow" }, /delayUntil/],
      [{ targetUrl: "https://x.example.com", pollConfig: { interval: 2 } }, /pollConfig\.urlTemplate/],
      [{ targetUrl: "https://x.example.com", provider: "openai" }, /provider/],
      [{ targetUrl: "ftp://x.example.com" }, /targetUrl/],
      [{ targetUrl: "https://user:pw@x.example.com" }, /targetUrl/],
      [{ targetUrl: "https://x.example.com", onCompleteUrl: "gopher://x" }, /onCompleteUrl/],
    ];
    for (const [body, pattern] of cases) {
      const res = await call("POST", "/v1/tasks", { key: free.key, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.json), JSON.stringify(body)).toMatch(pattern);
    }
    const tooLong = await call("POST", "/v1/tasks", { key: free.key, body: { targetUrl: "https://x.example.com", timeout: 31 } });
    expect(tooLong.json).toEqual({ error: "timeout exceeds the free plan's max wait time of 30 seconds", code: "max_wait_exceeded", maxWaitSeconds: 30 });
  });

  it("refuses private targets unless ALLOW_LOOPBACK_TARGETS is true", async () => {
    const team = await newTeam();
    const strict = await apiKeyContext(team, { ...env, ALLOW_LOOPBACK_TARGETS: "false" });
    for (const url of ["http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://[::ffff:10.0.0.1]/"]) {
      await expect(createTask(strict, base(url), undefined)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/^targetUrl /) });
    }
    await expect(createTask(strict, { ...base("https://api.example.com"), onCompleteUrl: "http://10.1.2.3/hook" }, undefined)).rejects.toMatchObject({ status: 400 });
  });

  it("puts only ids on the queue, never header values", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const sent: unknown[] = [];
    // A pass-through wrapper around the real queue binding that records what is sent.
    const recording = { ...env, TASKS: { send: (body: QueueMessage, options?: QueueSendOptions) => (sent.push(body), env.TASKS.send(body, options)) } as Queue<QueueMessage> };
    const { task } = await createTask(await apiKeyContext(team, recording), { ...base(upstreamNamespace().url("ok")), headers: { Authorization: `Bearer ${ref}` } }, undefined);
    // Ids and figures only: the claim needs no read of the task first (src/queue/messages.ts).
    expect(sent).toEqual([{ type: "task.execute", taskId: task.id, teamId: team.team.id, run: { plan: team.team.plan, timeoutS: 10, apiKeyId: expect.stringMatching(/^key_/), refs: [ref] } }]);
    expect(JSON.stringify(sent)).not.toContain(CANARY);
    const row = await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(task.id).first();
    expect(JSON.stringify(row)).not.toContain(CANARY);
    expect(JSON.stringify(row)).toContain(ref);
  });
});

describe("executing tasks from the queue", () => {
  it("resolves references at the last moment, audits each access, and stores a redacted result", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: up.url("echo"), headers: { Authorization: `Bearer ${ref}`, "X-Raw": ref, "Content-Type": "application/json" }, body: '{"a":1}' },
    });
    expect(created.status).toBe(201);
    expect(created.json.task).toMatchObject({ status: "pending", attempts: 0, method: "POST" });
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task).toMatchObject({ status: "completed", attempts: 1, error: null });
    expect(task.result.statusCode).toBe(200);
    expect(task.result.body).toContain("[REDACTED]");
    expect(task.result.headers["x-echo"]).toBe("Bearer [REDACTED]");
    const [hit] = await up.records();
    expect(hit?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(hit?.headers["x-raw"]).toBe(CANARY);
    expect(hit?.headers["content-type"]).toBe("application/json");
    expect(hit?.body).toBe('{"a":1}');
    const audit = await call("GET", `/v1/audit?action=token.accessed&targetId=${ref}`, { key: team.key });
    expect(audit.json.entries[0].actor).toEqual({ type: "task", id: task.id, apiKeyId: team.apiKey.id });
    const row = await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(task.id).first();
    expect(JSON.stringify(row)).not.toContain(CANARY);
  });

  it("treats a redelivered message for a finished task as a no-op", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok") } });
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task.status).toBe("completed");
    const result = await runBatch("token-vault-tasks", [{ type: "task.execute", taskId: task.id, teamId: team.team.id }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await up.records()).toHaveLength(1);
  });

  it("asks the queue to retry a 5xx with the task's backoff, then fails after maxRetries", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: up.url("status/503?retryAfter=7"), maxRetries: 1, retryBackoff: "linear", delay: 600 },
    });
    const id = created.json.task.id;
    // Bring the delayed task due now and drive the consumer with real message batches.
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), id).run();
    const message: QueueMessage = { type: "task.execute", taskId: id, teamId: team.team.id };
    const first = await runBatch("token-vault-tasks", [message]);
    expect(first.retryMessages).toHaveLength(1);
    expect(first.retryDelays).toEqual([7]); // the target's Retry-After wins over the linear backoff
    const waiting = (await call("GET", `/v1/tasks/${id}`, { key: team.key })).json.task;
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, error: "Target answered 503" });
    // The retry is held back until its time, even against an early duplicate delivery.
    expect(Date.parse(waiting.scheduledFor)).toBeGreaterThan(Date.now() + 5_000);
    const early = await runBatch("token-vault-tasks", [message]);
    expect(early.explicitAcks).toHaveLength(1);
    expect(await up.records()).toHaveLength(1);
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), id).run();
    const second = await runBatch("token-vault-tasks", [message]);
    expect(second.retryMessages).toEqual([]);
    expect((await call("GET", `/v1/tasks/${id}`, { key: team.key })).json.task).toMatchObject({ status: "failed", attempts: 2, error: "Target answered 503" });
    expect(await up.records()).toHaveLength(2);
  });

  it("marks a dead-lettered task failed", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    const result = await runBatch("token-vault-tasks-dlq", [{ type: "task.execute", taskId: created.json.task.id, teamId: team.team.id }]);
    expect(result.explicitAcks).toHaveLength(1);
    const task = (await call("GET", `/v1/tasks/${created.json.task.id}`, { key: team.key })).json.task;
    expect(task.status).toBe("failed");
    expect(task.error).toMatch(/dead-lettered/);
    expect(await up.records()).toEqual([]);
  });

  it("does not follow a redirect to another origin with credentials", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const up = upstreamNamespace();
    const foreign = up.url("ok").replace("127.0.0.1", "localhost");
    const same = up.url("echo");
    const created = await Promise.all(
      [foreign, same].map((to) =>
        call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url(`redirect?to=${encodeURIComponent(to)}&code=307`), headers: { Authorization: `Bearer ${ref}` } } }),
      ),
    );
    for (const c of created) expect((await awaitTask(team.key, c.json.task.id)).status).toBe("completed");
    const records = await up.records();
    const foreignHit = records.find((r) => r.path === "/ok");
    const sameHit = records.find((r) => r.path === "/echo");
    expect(foreignHit?.headers.authorization).toBeUndefined();
    expect(sameHit?.headers.authorization).toBe(`Bearer ${CANARY}`);
  });

  it("caps stored result bodies and flags the truncation", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("big/100000"), method: "GET" } });
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task.result.truncated).toBe(true);
    expect(task.result.body).toHaveLength(64 * 1024);
    const list = await call("GET", "/v1/tasks?status=completed", { key: team.key });
    expect(list.json.tasks[0].result).toEqual({ statusCode: 200, durationMs: expect.any(Number), truncated: true });
    expect(list.json.tasks[0].body).toBeUndefined();
    expect(list.json.pagination).toMatchObject({ total: 1, hasMore: false });
  });
});

describe("hardening", () => {
  it("redacts a secret straddling the stored-body cut, and its base64 form", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const up = upstreamNamespace();
    const cut = 64 * 1024 - "Bearer sk-".length;
    const tasks = await Promise.all(
      [`echo-at/${cut}`, "echo-b64"].map((path) => call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url(path), method: "GET", headers: { Authorization: `Bearer ${ref}` } } })),
    );
    for (const created of tasks) {
      const task = await awaitTask(team.key, created.json.task.id);
      expect(task.status).toBe("completed");
      const stored = JSON.stringify(task);
      expect(stored).not.toContain(CANARY.slice(0, 8));
      expect(stored).not.toContain(btoa(CANARY).slice(0, 12));
    }
  });

  it("reads a provider status from a document far larger than the stored body", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", {
      key: team.key,
      body: {
        targetUrl: up.url("replicate/v1/predictions"),
        provider: "replicate",
        pollConfig: { interval: 1 },
        headers: { Authorization: `Bearer ${ref}` },
        body: JSON.stringify({ version: "v", input: { bigLogs: true } }),
      },
    });
    const task = await awaitTask(team.key, created.json.task.id, 60);
    expect(task.status).toBe("completed");
    expect(task.result.output).toEqual(["https://replicate.delivery/out-0.png"]);
    expect(task.result.truncated).toBe(true);
  });

  it("ends a polling task as timeout once maxDuration passes", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: up.url("replicate/v1/predictions"), provider: "replicate", pollConfig: { interval: 1, maxDuration: 1 }, body: JSON.stringify({ version: "v", input: {} }) },
    });
    const task = await awaitTask(team.key, created.json.task.id, 60);
    expect(task.status).toBe("timeout");
    expect(task.error).toBe("Provider did not finish within maxDuration (1 s)");
  });

  it("refuses malformed references instead of sending them as text", async () => {
    const team = await newTeam();
    const res = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: "https://api.example.com", headers: { Authorization: "Bearer tok_01jrx7m2k000000000000000a" } } });
    expect(res.status).toBe(400);
    expect(res.json.malformedReferences).toEqual(["tok_01jrx7m2k000000000000000a"]);
  });

  it("fails a task whose ciphertext cannot be decrypted instead of leaving it processing", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, CANARY);
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), headers: { Authorization: ref }, delay: 600 } });
    await env.DB.prepare("UPDATE tokens SET iv = 'AAAAAAAAAAAAAAAA' WHERE id = ?").bind(ref).run();
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), created.json.task.id).run();
    await runBatch("token-vault-tasks", [{ type: "task.execute", taskId: created.json.task.id, teamId: team.team.id }]);
    const task = (await call("GET", `/v1/tasks/${created.json.task.id}`, { key: team.key })).json.task;
    expect(task).toMatchObject({ status: "failed", error: `Token reference ${ref} could not be decrypted; no request was made` });
    expect(await up.records()).toEqual([]);
  });

  it("re-checks the URL policy at execution", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), created.json.task.id).run();
    const { executeTask } = await import("../src/tasks/execute");
    await executeTask({ ...env, ALLOW_LOOPBACK_TARGETS: "false" }, { taskId: created.json.task.id, teamId: team.team.id });
    const task = (await call("GET", `/v1/tasks/${created.json.task.id}`, { key: team.key })).json.task;
    expect(task.status).toBe("failed");
    expect(task.error).toMatch(/private or reserved/);
    expect(await up.records()).toEqual([]);
  });

  it("retries a failing webhook with backoff and records each attempt", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), onCompleteUrl: up.url("status/500"), delay: 600 } });
    const id = created.json.task.id;
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), id).run();
    await runBatch("token-vault-tasks", [{ type: "task.execute", taskId: id, teamId: team.team.id }]);
    const hook: QueueMessage = { type: "webhook.deliver", taskId: id, teamId: team.team.id };
    const first = await runBatch("token-vault-tasks", [hook]);
    expect(first.retryDelays).toEqual([2]);
    const second = await runBatch("token-vault-tasks", [hook]);
    expect(second.retryDelays).toEqual([4]);
    const task = (await call("GET", `/v1/tasks/${id}`, { key: team.key })).json.task;
    expect(task.webhook).toEqual({ status: "pending", attempts: 2, error: "Webhook endpoint answered 500" });
    const hits = (await up.records()).filter((r) => r.path === "/status/500");
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(hits[0]?.headers["x-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
  });

  it("sweeps stalled steps back onto the queue", async () => {
    const { sweepStalledTasks } = await import("../src/tasks/sweeper");
    const team = await newTeam();
    const up = upstreamNamespace();
    const lost = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    const crashed = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    const old = new Date(Date.now() - 3600_000).toISOString();
    // One task's message was lost; the other's consumer died holding the lease.
    await env.DB.prepare("UPDATE tasks SET run_at = ?, updated_at = ? WHERE id = ?").bind(old, old, lost.json.task.id).run();
    await env.DB.prepare("UPDATE tasks SET status = 'processing', attempts = 1, lease_until = ?, run_at = ? WHERE id = ?").bind(old, old, crashed.json.task.id).run();
    expect(await sweepStalledTasks(env)).toBeGreaterThanOrEqual(2);
    for (const id of [lost.json.task.id, crashed.json.task.id]) expect((await awaitTask(team.key, id)).status).toBe("completed");
    expect(await up.records()).toHaveLength(2);
  });

  it("does not follow a cross-origin redirect with plain Authorization or Cookie headers either", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const foreign = up.url("ok").replace("127.0.0.1", "localhost");
    const created = await call("POST", "/v1/tasks", {
      key: team.key,
      body: { targetUrl: up.url(`redirect?to=${encodeURIComponent(foreign)}&code=302`), method: "GET", headers: { Authorization: "Basic dXNlcjpwYXNz", Cookie: "session=abc", "X-Trace": "t1" } },
    });
    expect((await awaitTask(team.key, created.json.task.id)).status).toBe("completed");
    const hit = (await up.records()).find((r) => r.path === "/ok");
    expect(hit?.headers.authorization).toBeUndefined();
    expect(hit?.headers.cookie).toBeUndefined();
    expect(hit?.headers["x-trace"]).toBe("t1");
  });
});
