/**
 * Seed 002's per-team rate limit under real concurrency over HTTP: a burst larger than the
 * Free plan's 60 per minute admits exactly 60 and refuses the rest with 429 and Retry-After.
 */
import { describe, expect, it } from "vitest";
import { createTeam, request } from "./helpers";

describe("rate limit", () => {
  it("admits exactly 60 of 200 concurrent requests from a Free team", async () => {
    const { key } = await createTeam("free");
    const replies = await Promise.all(Array.from({ length: 200 }, () => request("GET", "/v1/tokens", { key })));

    const ok = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    expect(ok).toHaveLength(60);
    expect(limited).toHaveLength(140);
    for (const res of limited) {
      expect(res.json).toEqual({ error: "Rate limit exceeded", code: "rate_limited" });
      expect(res.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
      expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    }
    for (const res of replies) expect(res.headers.get("x-ratelimit-limit")).toBe("60");
    // Each admitted request saw a different remaining count: 59 down to 0.
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it("counts per team: another team is unaffected", async () => {
    const first = await createTeam("free");
    const second = await createTeam("free");
    await Promise.all(Array.from({ length: 60 }, () => request("GET", "/v1/tokens", { key: first.key })));
    expect((await request("GET", "/v1/tokens", { key: first.key })).status).toBe(429);
    const other = await request("GET", "/v1/tokens", { key: second.key });
    expect(other.status).toBe(200);
    expect(other.headers.get("x-ratelimit-remaining")).toBe("59");
  });

  it("reports the Pro plan's limit of 600", async () => {
    const { key } = await createTeam("pro");
    const res = await request("GET", "/v1/tokens", { key });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-ratelimit-limit")).toBe("600");
    expect(res.headers.get("x-ratelimit-remaining")).toBe("599");
  });
});
