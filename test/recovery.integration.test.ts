/**
 * Issue 9, findings 3 and 4: the gate's call slots cannot leak (leases), and the sweeper sends
 * on a due task whose message was lost after 30 s, not 5 minutes, while leaving alone one that
 * is waiting its turn for a call slot (touched at every turn).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gateFor } from "../src/gate/client";
import { LOST_RUN_SECONDS, sweepStalledTasks } from "../src/tasks/sweeper";
import { call, newTeam } from "./helpers/api";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the team's call slots", () => {
  it("are limited, given back, and expire with their lease when a holder never gives them back", async () => {
    const gate = gateFor(env, `team-slots-${crypto.randomUUID()}`);
    expect(await gate.acquireCall("a", 2, 60_000)).toMatchObject({ granted: true, inFlight: 1 });
    expect(await gate.acquireCall("b", 2, 200)).toMatchObject({ granted: true, inFlight: 2 });
    expect(await gate.acquireCall("c", 2, 60_000)).toMatchObject({ granted: false, inFlight: 2, limit: 2 });
    await gate.releaseCall("a");
    expect(await gate.acquireCall("c", 2, 60_000)).toMatchObject({ granted: true, inFlight: 2 });
    // "b" died holding its slot: the lease frees it.
    await sleep(300);
    expect(await gate.callsInFlight()).toBe(1);
    expect(await gate.acquireCall("d", 2, 60_000)).toMatchObject({ granted: true, inFlight: 2 });
  });
});

describe("the sweeper (issue 9, finding 4)", () => {
  it(`sends on a due task untouched for ${LOST_RUN_SECONDS} s, and leaves one touched since alone`, async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const lost = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    const waiting = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600 } });
    const now = Date.now();
    const due = new Date(now - (LOST_RUN_SECONDS + 5) * 1000).toISOString();
    const touched = new Date(now - (LOST_RUN_SECONDS - 20) * 1000).toISOString();
    await env.DB.prepare("UPDATE tasks SET run_at = ?, updated_at = ? WHERE id = ?").bind(due, due, lost.json.task.id).run();
    await env.DB.prepare("UPDATE tasks SET run_at = ?, updated_at = ? WHERE id = ?").bind(due, touched, waiting.json.task.id).run();
    expect(await sweepStalledTasks(env, now)).toBeGreaterThanOrEqual(1);
    expect((await awaitTask(team.key, lost.json.task.id)).status).toBe("completed");
    const untouched = await env.DB.prepare("SELECT status, updated_at FROM tasks WHERE id = ?").bind(waiting.json.task.id).first<{ status: string; updated_at: string }>();
    expect(untouched).toEqual({ status: "delayed", updated_at: touched });
    expect((await up.records()).length).toBe(1);
  });
});
