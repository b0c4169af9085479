import { describe, expect, it } from "vitest";
import { call, newTeam } from "./helpers/api";

describe("per-team rate limits (seed 002)", () => {
  it("admits exactly 60 of 200 concurrent requests for a Free team", async () => {
    const team = await newTeam("free");
    const results = await Promise.all(Array.from({ length: 200 }, () => call("GET", "/v1/tokens", { key: team.key })));
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(60);
    expect(limited).toHaveLength(140);
    expect(limited[0]?.json).toEqual({ error: "Rate limit exceeded", code: "rate_limited" });
    for (const r of limited) {
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect(r.headers.get("x-ratelimit-remaining")).toBe("0");
    }
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const r of results) {
      expect(r.headers.get("x-ratelimit-limit")).toBe("60");
      expect(Number(r.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
    }
  });

  it("shares one counter across all of a team's keys and isolates teams", async () => {
    const team = await newTeam("pro");
    const second = await call("POST", `/admin/teams/${team.team.id}/apikeys`, { admin: true, body: { name: "second" } });
    const a = await call("GET", "/v1/tokens", { key: team.key });
    const b = await call("GET", "/v1/tokens", { key: second.json.key });
    expect(a.headers.get("x-ratelimit-limit")).toBe("600");
    expect(Number(b.headers.get("x-ratelimit-remaining"))).toBe(Number(a.headers.get("x-ratelimit-remaining")) - 1);
    const other = await newTeam("pro");
    expect((await call("GET", "/v1/tokens", { key: other.key })).headers.get("x-ratelimit-remaining")).toBe("599");
  });

  it("puts the headers on error responses too, and not on unauthenticated ones", async () => {
    const team = await newTeam("free");
    const bad = await call("POST", "/v1/tokens", { key: team.key, body: { name: "" } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("x-ratelimit-limit")).toBe("60");
    const anonymous = await call("GET", "/v1/tokens");
    expect(anonymous.headers.get("x-ratelimit-limit")).toBeNull();
  });
});
