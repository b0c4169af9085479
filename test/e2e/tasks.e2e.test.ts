/**
 * Tasks end to end (issue 3): the real local server executes tasks from its local queue
 * against a real HTTP target on loopback (test/fakes/upstream.ts) that records what it
 * receives. Each test works in its own namespace of the fake server, on its own team.
 */
import { describe, expect, it } from "vitest";
import {
  canary,
  createTask,
  createTeam,
  createToken,
  logLinesWith,
  namespace,
  ns,
  postTask,
  recorded,
  request,
  responseHits,
  sleep,
  upstreamRecords,
  waitForTask,
} from "./helpers";

describe.each([
  ["tok_...", (ref: string) => ref],
  ["Bearer tok_...", (ref: string) => `Bearer ${ref}`],
])("an Authorization header of the form %s", (_form, wrap) => {
  it("reaches the target as the real secret, Content-Type untouched, and the secret leaks nowhere", async () => {
    const team = await createTeam("pro");
    const secret = canary();
    const tokenId = await createToken(team.key, secret);
    const space = namespace("ref");
    const from = recorded.length;
    const contentType = "application/vnd.e2e+json; charset=utf-8";
    const headers = { Authorization: wrap(tokenId), "Content-Type": contentType, "X-Plain": "left-as-is" };
    const body = '{"prompt":"a beautiful sunset over mountains"}';

    // /echo sends the Authorization it received back in its body and in a header.
    const created = await createTask(team.key, { targetUrl: `${ns(space)}/echo`, headers, body });
    expect(created.id).toMatch(/^task_/);
    expect(["pending", "processing"]).toContain(created.status);
    const task = await waitForTask(team.key, created.id);
    expect(task.status).toBe("completed");
    expect(task.attempts).toBe(1);
    expect(task.result.statusCode).toBe(200);

    // The target saw the real secret in the same form, and every other header unchanged.
    const records = await upstreamRecords(space);
    expect(records).toHaveLength(1);
    expect(records[0]!.method).toBe("POST");
    expect(records[0]!.headers.authorization).toBe(wrap(secret));
    expect(records[0]!.headers["content-type"]).toBe(contentType);
    expect(records[0]!.headers["x-plain"]).toBe("left-as-is");
    expect(records[0]!.body).toBe(body);

    // The stored task keeps the reference; the echoed secret is redacted from its result.
    const stored = await request("GET", `/v1/tasks/${task.id}`, { key: team.key });
    expect(stored.status).toBe(200);
    expect(stored.json.task.headers).toEqual(headers);
    expect(stored.json.task.body).toBe(body);
    const echoed = JSON.parse(stored.json.task.result.body as string).authorization as string;
    expect(echoed).toContain("[REDACTED]");
    expect(stored.text).not.toContain(secret);

    const list = await request("GET", "/v1/tasks", { key: team.key });
    expect(list.status).toBe(200);
    expect(list.json.tasks.map((t: { id: string }) => t.id)).toContain(task.id);
    expect(list.text).not.toContain(secret);

    // The resolution is audited: actor = the task and the key that created it.
    const audit = await request("GET", `/v1/audit?action=token.accessed&targetId=${tokenId}`, { key: team.key });
    expect(audit.status).toBe(200);
    expect(audit.json.entries.length).toBeGreaterThanOrEqual(1);
    for (const entry of audit.json.entries) {
      expect(entry.action).toBe("token.accessed");
      expect(entry.target).toEqual({ type: "token", id: tokenId });
      expect(entry.actor).toEqual({ type: "task", id: task.id, apiKeyId: team.apiKey.id });
    }
    const fullAudit = await request("GET", "/v1/audit?limit=100", { key: team.key });
    expect(fullAudit.json.entries.map((e: { action: string }) => e.action)).toContain("token.accessed");
    expect(fullAudit.text).not.toContain(secret);

    // Nothing the server answered during this test carries the secret, in a body or a header.
    expect(recorded.length - from).toBeGreaterThanOrEqual(5);
    expect(responseHits(secret, from)).toEqual([]);

    // The log does record this task (so the search below can find things), never the secret.
    const deadline = Date.now() + 5_000;
    while (logLinesWith(task.id).length === 0 && Date.now() < deadline) await sleep(200);
    expect(logLinesWith(task.id).length).toBeGreaterThan(0);
    expect(logLinesWith(secret)).toEqual([]);
  });
});

// Independent tasks on separate teams and namespaces: run side by side, as a user's would.
describe.concurrent("execution semantics", () => {
  it("retries a 500 with linear backoff, then completes", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("flaky");
    const created = await createTask(key, { targetUrl: `${ns(space)}/flaky/2`, retryBackoff: "linear", maxRetries: 3 });
    const task = await waitForTask(key, created.id);
    expect(task.status).toBe("completed");
    expect(task.attempts).toBe(3);
    expect(task.error).toBeNull();
    expect(task.result.statusCode).toBe(200);
    expect(JSON.parse(task.result.body as string)).toEqual({ ok: true, call: 3 });
    const records = await upstreamRecords(space);
    expect(records).toHaveLength(3);
    // Linear backoff: about 1 s before the second call, 2 s before the third.
    expect(records[1]!.at - records[0]!.at).toBeGreaterThanOrEqual(900);
    expect(records[2]!.at - records[1]!.at).toBeGreaterThanOrEqual(1_900);
  });

  it("does not retry a 4xx: it is a completed task", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("notfound");
    const created = await createTask(key, { targetUrl: `${ns(space)}/status/404`, maxRetries: 3 });
    const task = await waitForTask(key, created.id);
    expect(task.status).toBe("completed");
    expect(task.attempts).toBe(1);
    expect(task.result.statusCode).toBe(404);
    // Would a retry have happened, it would be due 1 s later: give it the chance.
    await sleep(2_500);
    expect(await upstreamRecords(space)).toHaveLength(1);
    expect((await request("GET", `/v1/tasks/${task.id}`, { key })).json.task.attempts).toBe(1);
  });

  it("ends as timeout when the only attempt outlives its timeout", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("slow");
    const created = await createTask(key, { targetUrl: `${ns(space)}/slow/3000`, timeout: 1, maxRetries: 0 });
    const task = await waitForTask(key, created.id);
    expect(task.status).toBe("timeout");
    expect(task.attempts).toBe(1);
    expect(task.error).toMatch(/timed out/i);
    expect(Date.parse(task.completedAt) - Date.parse(task.startedAt)).toBeLessThan(2_900);
    expect(await upstreamRecords(space)).toHaveLength(1);
  });

  it("cancels a delayed task once (200, then 409) and never calls its target", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("cancel");
    const created = await createTask(key, { targetUrl: `${ns(space)}/ok`, delay: 30 });
    expect(created.status).toBe("delayed");
    const cancelled = await request("POST", `/v1/tasks/${created.id}/cancel`, { key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.task.id).toBe(created.id);
    expect(cancelled.json.task.status).toBe("cancelled");
    const again = await request("POST", `/v1/tasks/${created.id}/cancel`, { key });
    expect(again.status).toBe(409);
    expect(again.json.error).toEqual(expect.any(String));

    // A short-delay task cancelled the same way: its queue message does arrive within this
    // test, and must do nothing.
    const soon = await createTask(key, { targetUrl: `${ns(space)}/ok`, delay: 1 });
    expect((await request("POST", `/v1/tasks/${soon.id}/cancel`, { key })).json.task.status).toBe("cancelled");
    await sleep(4_000);
    expect(await upstreamRecords(space)).toEqual([]);
    for (const id of [created.id, soon.id]) {
      const task = (await request("GET", `/v1/tasks/${id}`, { key })).json.task;
      expect(task.status).toBe("cancelled");
      expect(task.attempts).toBe(0);
    }
  });

  it("runs a delayed task no earlier than its delay", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("delayed");
    const created = await createTask(key, { targetUrl: `${ns(space)}/ok`, delay: 2 });
    expect(created.status).toBe("delayed");
    const createdAt = Date.parse(created.createdAt);
    expect(Date.parse(created.scheduledFor) - createdAt).toBeGreaterThanOrEqual(1_990);
    const task = await waitForTask(key, created.id);
    expect(task.status).toBe("completed");
    const records = await upstreamRecords(space);
    expect(records).toHaveLength(1);
    expect(records[0]!.at - createdAt).toBeGreaterThanOrEqual(1_900);
  });

  it("replays an Idempotency-Key with the same body and refuses it with another", async ({ expect }) => {
    const { key } = await createTeam("pro");
    const space = namespace("idem");
    const idem = { "Idempotency-Key": `idem-${space}` };
    const body = { targetUrl: `${ns(space)}/ok`, body: '{"n":1}' };
    const first = await postTask(key, body, idem);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const second = await postTask(key, body, idem);
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.json.task.id).toBe(first.json.task.id);

    const conflict = await postTask(key, { ...body, body: '{"n":2}' }, idem);
    expect(conflict.status).toBe(409);
    expect(conflict.json.error).toEqual(expect.any(String));

    const task = await waitForTask(key, first.json.task.id);
    expect(task.status).toBe("completed");
    const third = await postTask(key, body, idem);
    expect(third.status).toBe(201);
    expect(third.json.task.id).toBe(first.json.task.id);
    expect(third.json.task.status).toBe("completed");
    await sleep(1_500);
    expect(await upstreamRecords(space)).toHaveLength(1);
    const list = await request("GET", "/v1/tasks", { key });
    expect(list.json.pagination.total).toBe(1);
  });

  it("fails a task whose token was revoked before execution, without calling the target", async ({ expect }) => {
    const team = await createTeam("pro");
    const tokenId = await createToken(team.key, canary());
    const space = namespace("revoked");
    const created = await createTask(team.key, { targetUrl: `${ns(space)}/ok`, headers: { Authorization: `Bearer ${tokenId}` }, delay: 3 });
    expect(created.status).toBe("delayed");
    const revoked = await request("DELETE", `/v1/tokens/${tokenId}`, { key: team.key });
    expect(revoked.status).toBe(200);
    expect(revoked.json.token.revokedAt).toEqual(expect.any(String));

    const task = await waitForTask(team.key, created.id);
    expect(task.status).toBe("failed");
    expect(task.error).toContain(tokenId);
    expect(task.result).toBeNull();
    expect(await upstreamRecords(space)).toEqual([]);
    // And a new task with the revoked reference is refused at creation, naming it.
    const refused = await postTask(team.key, { targetUrl: `${ns(space)}/ok`, headers: { Authorization: `Bearer ${tokenId}` } });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toContain(tokenId);
  });
});

describe("plan caps (max wait time)", () => {
  it("a Free team's timeout and ?wait are capped at 30 s", async () => {
    const { key } = await createTeam("free");
    const space = namespace("cap");
    const over = await postTask(key, { targetUrl: `${ns(space)}/ok`, timeout: 31 });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatch(/\b30\b/);
    expect(over.json.error).toMatch(/free/i);

    const atCap = await createTask(key, { targetUrl: `${ns(space)}/ok`, timeout: 30 });
    expect(atCap.timeout).toBe(30);
    const waitOver = await request("GET", `/v1/tasks/${atCap.id}?wait=31`, { key });
    expect(waitOver.status).toBe(400);
    expect(waitOver.json.error).toMatch(/\b30\b/);
    const waitOk = await request("GET", `/v1/tasks/${atCap.id}?wait=30`, { key });
    expect(waitOk.status).toBe(200);
    expect(waitOk.json.task.status).toBe("completed");
  });

  it("a Pro team's caps are 120 s", async () => {
    const { key } = await createTeam("pro");
    const space = namespace("procap");
    expect((await postTask(key, { targetUrl: `${ns(space)}/ok`, timeout: 31, delay: 3600 })).status).toBe(201);
    const over = await postTask(key, { targetUrl: `${ns(space)}/ok`, timeout: 121 });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatch(/\b120\b/);
  });
});
