import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { gateStub } from "../src/gate/client";
import { TeamGate } from "../src/gate/team-gate";
import { SlidingWindowLog } from "../src/ratelimit/sliding-window";

const MINUTE = 60_000;

describe("sliding-window log", () => {
  it("admits exactly the limit, then refuses with the time until a slot frees", () => {
    const log = new SlidingWindowLog(MINUTE);
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 60; i++) expect(log.consume(t0 + i, 60).allowed).toBe(true);
    const refused = log.consume(t0 + 1_000, 60);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, limit: 60 });
    expect(refused.retryAfter).toBe(60);
    expect(refused.reset).toBe(Math.ceil((t0 + MINUTE + 1) / 1000));
  });

  it("allows no double burst at a window edge: any 60 s span holds at most the limit", () => {
    const log = new SlidingWindowLog(MINUTE);
    const t0 = 1_700_000_000_000;
    // A burst at the end of one clock minute...
    for (let i = 0; i < 60; i++) expect(log.consume(t0 + 59_000, 60).allowed).toBe(true);
    // ...earns nothing at the start of the next one (a fixed window would allow 60 more here).
    expect(log.consume(t0 + 60_001, 60).allowed).toBe(false);
    expect(log.consume(t0 + 118_999, 60).allowed).toBe(false);
    // A request exactly one window old still counts: no closed 60 s span holds limit + 1.
    expect(log.consume(t0 + 119_000, 60).allowed).toBe(false);
    // Slots free only once the burst is a full window old.
    expect(log.consume(t0 + 119_001, 60).allowed).toBe(true);
  });

  it("checks every 60 s span of a long random trace", () => {
    const log = new SlidingWindowLog(MINUTE);
    const admitted: number[] = [];
    let now = 1_700_000_000_000;
    for (let i = 0; i < 5_000; i++) {
      now += Math.floor(Math.random() * 2_500);
      if (log.consume(now, 60).allowed) admitted.push(now);
    }
    for (let i = 0; i < admitted.length; i++) {
      const start = admitted[i]!;
      const inSpan = admitted.filter((t) => t >= start && t <= start + MINUTE).length;
      expect(inSpan).toBeLessThanOrEqual(60);
    }
    expect(admitted.length).toBeGreaterThan(60);
  });

  it("reports remaining, and applies a lower limit (plan change) at once", () => {
    const log = new SlidingWindowLog(MINUTE);
    const t0 = 1_700_000_000_000;
    expect(log.consume(t0, 600).remaining).toBe(599);
    for (let i = 1; i < 100; i++) log.consume(t0 + i, 600);
    const refused = log.consume(t0 + 200, 60);
    expect(refused.allowed).toBe(false);
    // 100 in the window, limit 60: the 41st oldest must leave first.
    expect(refused.reset).toBe(Math.ceil((t0 + 40 + MINUTE) / 1000));
  });
});

describe("TeamGate durable object", () => {
  it("counts per team and survives a restart of the object", async () => {
    const stub = gateStub(env, "team_restart_test");
    for (let i = 0; i < 3; i++) expect((await stub.consume(3)).allowed).toBe(true);
    expect((await stub.consume(3)).allowed).toBe(false);
    // The alarm mirrors admissions to storage (it fires within a second; run it now)...
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    // ...so a new instance on the same storage (as after an eviction or deploy) keeps the window.
    const fresh = await runInDurableObject(stub, (_instance, state) => new TeamGate(state, env).consume(3));
    expect(fresh.allowed).toBe(false);
    const other = gateStub(env, "team_other");
    expect((await other.consume(3)).allowed).toBe(true);
  });
});
