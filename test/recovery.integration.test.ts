/**
 * Issue 9, findings 3 and 4: the team's call slots cannot leak (leases), and the sweeper sends
 * on a due task whose message was lost after 30 s, not 5 minutes, while leaving alone one that
 * is waiting its turn for a call slot (touched at every turn).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { callsInFlight, claim } from "../src/tasks/transitions";
import { LOST_RUN_SECONDS, sweepStalledTasks } from "../src/tasks/sweeper";
import { call, newTeam } from "./helpers/api";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the team's call slots (the claim, src/tasks/transitions.ts)", () => {
  it("are limited, given back with the outcome, and expire with their lease when a holder never gives them back", async () => {
    const team = await newTeam();
    const up = upstreamNamespace();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: up.url("ok"), delay: 600, timeout: 10 } })).json.task.id);
    // Due now, claimed by hand (the queue's messages stay 600 s away).
    await env.DB.batch(ids.map((id) => env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), id)));
    const slots = { teamId: team.team.id, limit: 2 };
    const take = (id: string, at = new Date()) => claim(env, { id, timeout_s: 10 }, at, slots);
    expect((await take(ids[0]!))?.row.status).toBe("processing");
    expect((await take(ids[1]!))?.row.status).toBe("processing");
    expect(await take(ids[2]!)).toBeNull();
    expect(await callsInFlight(env.DB, team.team.id)).toBe(2);
    // Waiting for a slot is not an attempt.
    expect(await env.DB.prepare("SELECT status, attempts FROM tasks WHERE id = ?").bind(ids[2]).first()).toEqual({ status: "delayed", attempts: 0 });
    // An outcome gives the slot back.
    await env.DB.prepare("UPDATE tasks SET status = 'completed', lease_until = NULL WHERE id = ?").bind(ids[0]).run();
    expect((await take(ids[2]!))?.row.status).toBe("processing");
    expect(await take(ids[3]!)).toBeNull();
    // ids[1]'s consumer died holding its slot: past its lease (timeout + 30 s) the slot is free,
    // and the abandoned task itself can be claimed again.
    const later = new Date(Date.now() + 41_000);
    expect(await callsInFlight(env.DB, team.team.id, later)).toBe(0);
    expect((await take(ids[3]!, later))?.row.status).toBe("processing");
    expect((await take(ids[1]!, later))?.row.attempts).toBe(2);
    expect(await callsInFlight(env.DB, team.team.id, later)).toBe(2);
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
