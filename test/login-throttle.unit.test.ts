import { describe, expect, it } from "vitest";
import { addressBucket } from "../src/auth/login-throttle";
import { PerSourceWindow, plainLimit } from "../src/ratelimit/per-source-window";
import { SlidingWindowLog } from "../src/ratelimit/sliding-window";

const MINUTE = 60_000;
const T0 = 1_700_000_000_000;
const RULE = { perSource: 10, sharePerSource: 3, ceiling: 10 };

describe("per-source window (login attempts on one account)", () => {
  it("stops one source at its own limit without stopping the others", () => {
    const w = new PerSourceWindow(MINUTE);
    for (let i = 0; i < 10; i++) expect(w.consume(T0 + i, "attacker", RULE).allowed).toBe(true);
    const refused = w.consume(T0 + 100, "attacker", RULE);
    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    expect(refused.retryAfter).toBe(60);
    // The attacker spent only its share (3 of 10): the owner elsewhere is not locked out.
    for (let i = 0; i < 7; i++) expect(w.consume(T0 + 200 + i, "owner", RULE).allowed).toBe(true);
  });

  it("stops every source once several together reach the ceiling", () => {
    const w = new PerSourceWindow(MINUTE);
    const admitted: string[] = [];
    for (const source of ["a1", "a2", "a3", "a4", "a5"]) {
      for (let i = 0; i < 3; i++) if (w.consume(T0 + admitted.length, source, RULE).allowed) admitted.push(source);
    }
    // 3 + 3 + 3 + 1: the fourth address reaches the ceiling, the fifth gets nothing.
    expect(admitted).toEqual(["a1", "a1", "a1", "a2", "a2", "a2", "a3", "a3", "a3", "a4"]);
    const owner = w.consume(T0 + 1000, "owner", RULE);
    expect(owner.allowed).toBe(false);
    // The ceiling frees when the oldest attempt leaves the window.
    expect(owner.reset).toBe(Math.ceil((T0 + MINUTE + 1) / 1000));
    expect(w.consume(T0 + MINUTE + 1, "owner", RULE).allowed).toBe(true);
  });

  it("counts a source's attempts beyond its share only against itself", () => {
    const w = new PerSourceWindow(MINUTE);
    for (let i = 0; i < 10; i++) w.consume(T0 + i, "a1", RULE);
    for (let i = 0; i < 3; i++) expect(w.consume(T0 + 20 + i, "a2", RULE).allowed).toBe(true);
    for (let i = 0; i < 3; i++) expect(w.consume(T0 + 30 + i, "a3", RULE).allowed).toBe(true);
    // 3 + 3 + 3 spent: one more from anyone reaches the ceiling.
    expect(w.consume(T0 + 40, "a4", RULE).allowed).toBe(true);
    expect(w.consume(T0 + 41, "a5", RULE).allowed).toBe(false);
  });

  it("with a plain limit, decides exactly as the sliding-window log", () => {
    const w = new PerSourceWindow(MINUTE);
    const log = new SlidingWindowLog(MINUTE);
    let now = T0;
    for (let i = 0; i < 2_000; i++) {
      now += Math.floor(Math.random() * 3_000);
      expect(w.consume(now, "", plainLimit(30))).toEqual(log.consume(now, 30));
    }
  });
});

describe("address buckets", () => {
  it("keeps IPv4 addresses and groups IPv6 addresses by /64", () => {
    expect(addressBucket("203.0.113.7")).toBe("203.0.113.7");
    expect(addressBucket("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:0DB8:0001:0002:ffff:eeee:dddd:cccc")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::ffff:192.0.2.1")).toBe("::ffff:192.0.2.1");
  });
});
