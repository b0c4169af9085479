/**
 * Issue 9, finding 3 (noisy neighbour): one team's hanging targets must not stall another
 * team's tasks, and a team never has more outbound calls in flight than its plan allows. Runs
 * on the real local queue, D1 and Durable Objects; the fake upstream's /hang endpoint holds
 * each call open until released and counts how many were ever open at once.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callsInFlight } from "../src/tasks/transitions";
import { PLANS } from "../src/plans";
import { call, newTeam } from "./helpers/api";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const HANGING = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hangs(ns: string): Promise<{ open: number; maxOpen: number }> {
  return (await fetch(`${env.UPSTREAM_URL}/__hanging/${ns}`)).json();
}

/** Long-polls within the Free plan's 30 s wait cap until the task is final. */
async function untilFinal(key: string, id: string) {
  for (let i = 0; ; i++) {
    const task = await awaitTask(key, id, 25);
    if (["completed", "failed", "timeout", "cancelled"].includes(task.status) || i >= 3) return task;
  }
}

describe("one team's hanging targets (issue 9, finding 3)", () => {
  it("hold at most the plan's parallel calls, and another team's task completes meanwhile", { timeout: 90_000 }, async () => {
    const a = await newTeam("free");
    const b = await newTeam("free");
    const limit = PLANS.free.maxParallelCalls;
    const hang = upstreamNamespace();
    const hangNs = new URL(hang.url("x")).pathname.split("/")[2]!;
    const ok = upstreamNamespace();

    const created = await Promise.all(
      Array.from({ length: HANGING }, () => call("POST", "/v1/tasks", { key: a.key, body: { targetUrl: hang.url("hang"), timeout: 30, maxRetries: 0 } })),
    );
    expect(created.map((r) => r.status)).toEqual(Array(HANGING).fill(201));
    const aIds = created.map((r) => r.json.task.id as string);
    // A's calls reach the fake upstream (up to its limit) before B's task is created.
    for (let i = 0; i < 100 && (await hangs(hangNs)).open < limit; i++) await sleep(100);
    expect((await hangs(hangNs)).open).toBe(limit);

    const bTask = await call("POST", "/v1/tasks", { key: b.key, body: { targetUrl: ok.url("ok"), maxRetries: 0 } });
    expect(bTask.status).toBe(201);
    const done = await awaitTask(b.key, bTask.json.task.id, 25);
    expect(done.status).toBe("completed");
    expect(done.attempts).toBe(1);
    expect(await ok.records()).toHaveLength(1);

    // B finished while every one of A's calls was still hanging: none of A's tasks is final,
    // and A never had more calls open than its plan allows, counted at the target and by the claims.
    const during = await hangs(hangNs);
    expect(during.open).toBe(limit);
    expect(during.maxOpen).toBe(limit);
    expect(await callsInFlight(env.DB, a.team.id)).toBe(limit);
    const aViews = await Promise.all(aIds.map(async (id) => (await call("GET", `/v1/tasks/${id}`, { key: a.key })).json.task));
    expect(aViews.filter((t) => t.status === "processing")).toHaveLength(limit);
    expect(aViews.filter((t) => t.status === "pending")).toHaveLength(HANGING - limit);
    // Waiting for a slot is not an attempt.
    expect(aViews.filter((t) => t.status === "pending").every((t) => t.attempts === 0)).toBe(true);

    // Released, A's tasks all complete on their first attempt, never more than `limit` at once.
    const releaser = (async () => {
      for (let i = 0; i < 300; i++) {
        await fetch(`${env.UPSTREAM_URL}/__release/${hangNs}`, { method: "POST" });
        await sleep(200);
      }
    })();
    const finals = await Promise.all(aIds.map((id) => untilFinal(a.key, id)));
    expect(finals.map((t) => t.status)).toEqual(Array(HANGING).fill("completed"));
    expect(finals.every((t) => t.attempts === 1)).toBe(true);
    expect((await hangs(hangNs)).maxOpen).toBe(limit);
    expect((await hang.records()).length).toBe(HANGING);
    expect(await callsInFlight(env.DB, a.team.id)).toBe(0);
    void releaser;
  });
});
