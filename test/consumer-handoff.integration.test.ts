/**
 * Issue 15: an execution hands its queue message back as soon as it has claimed its task (the
 * claim's lease keeps the task from then on), so a batch's handler returns after its claims,
 * not after its calls; the call then finishes under waitUntil and records its outcome. Driven
 * through the real consumer (src/queue/consumer.ts) with the real D1, against the fake upstream's
 * /hang endpoint, which holds the call open until released.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { handleQueue } from "../src/queue/consumer";
import { executeTask } from "../src/tasks/execute";
import type { QueueMessage } from "../src/queue/messages";
import type { TaskRow } from "../src/tasks/model";
import { executionHint } from "../src/tasks/references";
import { call, newTeam, newToken } from "./helpers/api";
import { upstreamNamespace } from "./helpers/tasks";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hangs = async (ns: string): Promise<{ open: number }> => (await fetch(`${env.UPSTREAM_URL}/__hanging/${ns}`)).json();

describe("the consumer hands an execution's message back once it is claimed", () => {
  it("acks while the call is still open, then the call completes the task under waitUntil", async () => {
    const team = await newTeam();
    const ref = await newToken(team.key, "handoff-canary-value");
    const hang = upstreamNamespace();
    const ns = new URL(hang.url("x")).pathname.split("/")[2]!;
    // Far in the future for the real queue; due now for the batch below.
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: hang.url("hang"), delay: 600, timeout: 10, maxRetries: 0, headers: { authorization: `Bearer ${ref}` } } });
    expect(created.status).toBe(201);
    const id = created.json.task.id as string;
    await env.DB.prepare("UPDATE tasks SET run_at = ?, status = 'pending' WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), id).run();
    const row = (await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(id).first<TaskRow>())!;

    const outcomes: string[] = [];
    const body: QueueMessage = { type: "task.execute", taskId: id, teamId: team.team.id, run: executionHint(row, team.team.plan) };
    const message = { id: "m1", timestamp: new Date(), attempts: 1, body, ack: () => void outcomes.push("ack"), retry: () => void outcomes.push("retry") };
    const batch = { queue: "token-vault-tasks", messages: [message], ackAll: () => undefined, retryAll: () => undefined } as unknown as MessageBatch<QueueMessage>;
    const detached: Promise<unknown>[] = [];

    await handleQueue(batch, env, { waitUntil: (p) => void detached.push(p) });
    // The handler has returned: the message is acked, the task claimed, its call still open.
    expect(outcomes).toEqual(["ack"]);
    expect(detached).toHaveLength(1);
    for (let i = 0; i < 50 && (await hangs(ns)).open < 1; i++) await sleep(100);
    expect((await hangs(ns)).open).toBe(1);
    expect(await env.DB.prepare("SELECT status, attempts FROM tasks WHERE id = ?").bind(id).first()).toEqual({ status: "processing", attempts: 1 });

    await fetch(`${env.UPSTREAM_URL}/__release/${ns}`, { method: "POST" });
    await Promise.all(detached);
    const done = (await call("GET", `/v1/tasks/${id}`, { key: team.key })).json.task;
    expect(done).toMatchObject({ status: "completed", attempts: 1 });
    expect(JSON.stringify(done)).not.toContain("handoff-canary-value");
    expect(await hang.records()).toHaveLength(1);
  });

  it("says it is claimed (the hook the consumer acks on) before the call ends, and not for a claim that missed", async () => {
    const team = await newTeam();
    const hang = upstreamNamespace();
    const ns = new URL(hang.url("x")).pathname.split("/")[2]!;
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: hang.url("hang"), delay: 600, timeout: 10, maxRetries: 0 } });
    const id = created.json.task.id as string;
    await env.DB.prepare("UPDATE tasks SET run_at = ?, status = 'pending' WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), id).run();
    const row = (await env.DB.prepare("SELECT * FROM tasks WHERE id = ?").bind(id).first<TaskRow>())!;
    const message = { taskId: id, teamId: team.team.id, run: executionHint(row, team.team.plan) };

    let settled = false;
    let claimed!: () => void;
    const claimedNow = new Promise<void>((resolve) => (claimed = resolve));
    const step = executeTask(env, message, claimed).finally(() => (settled = true));
    await claimedNow;
    // Claimed, and the step is still running: its call has not come back.
    expect(settled).toBe(false);
    expect((await env.DB.prepare("SELECT status FROM tasks WHERE id = ?").bind(id).first())?.status).toBe("processing");

    // A duplicate delivery meanwhile finds it taken: no hand-off, it waits for the lease.
    let duplicateClaimed = false;
    expect(await executeTask(env, message, () => (duplicateClaimed = true))).toMatchObject({ action: "retry" });
    expect(duplicateClaimed).toBe(false);

    for (let i = 0; i < 50 && (await hangs(ns)).open < 1; i++) await sleep(100);
    await fetch(`${env.UPSTREAM_URL}/__release/${ns}`, { method: "POST" });
    expect(await step).toEqual({ action: "ack" });
    expect((await env.DB.prepare("SELECT status FROM tasks WHERE id = ?").bind(id).first())?.status).toBe("completed");
  });
});
