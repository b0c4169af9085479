import { describe, expect, it } from "vitest";
import { parseHostPattern } from "../src/gateway/host-pattern";
import { matchService } from "../src/gateway/match";
import { referencedKeys, type ServiceRule } from "../src/gateway/types";

const parse = (raw: string, loopback = false) => parseHostPattern(raw, loopback);

describe("service host patterns", () => {
  it.each([
    ["api.stripe.com", { host: "api.stripe.com", wildcard: false, port: null, path: null }],
    ["*.github.com", { host: "github.com", wildcard: true, port: null, path: null }],
    ["slack.com/api/*", { host: "slack.com", wildcard: false, port: null, path: "/api/*" }],
    ["API.Example.com.:8443", { host: "api.example.com", wildcard: false, port: 8443, path: null }],
  ])("accepts %s", (raw, pattern) => {
    expect(parse(raw)).toEqual({ ok: true, pattern });
  });

  it.each(["*", "*.com", "*.co.uk", "localhost", "localhost:8080", "127.0.0.1", "8.8.8.8", "[2001:db8::1]", "[::1]", "metadata.google.internal", "db.internal", "printer.local", "intranet", "https://api.stripe.com", "a..b", "api.*.com", "user@api.stripe.com", "api.stripe.com:70000", "api.stripe.com?x=1", ""])("refuses %j", (raw) => {
    const verdict = parse(raw);
    expect(verdict.ok).toBe(false);
  });

  it("accepts loopback only with the local development switch, and only loopback", () => {
    expect(parse("localhost:8787", true)).toEqual({ ok: true, pattern: { host: "localhost", wildcard: false, port: 8787, path: null } });
    expect(parse("127.0.0.1:9000", true).ok).toBe(true);
    expect(parse("10.0.0.1", true).ok).toBe(false);
    expect(parse("metadata.google.internal", true).ok).toBe(false);
  });
});

function rules(...specs: string[]): ServiceRule[] {
  return specs.map((host, position) => {
    const verdict = parseHostPattern(host, true);
    if (!verdict.ok) throw new Error(verdict.reason);
    return { name: `s${position}`, host, enabled: true, auth: { type: "passthrough" }, pattern: verdict.pattern, position };
  });
}

describe("matching priority", () => {
  it("prefers the exact host over a wildcard, whatever the order", () => {
    expect(matchService(rules("*.github.com", "api.github.com"), "api.github.com", 443, "/")?.name).toBe("s1");
    expect(matchService(rules("*.github.com", "api.github.com"), "uploads.github.com", 443, "/")?.name).toBe("s0");
  });
  it("a wildcard is one level: neither the apex nor two levels down", () => {
    expect(matchService(rules("*.github.com"), "github.com", 443, "/")).toBeUndefined();
    expect(matchService(rules("*.github.com"), "a.b.github.com", 443, "/")).toBeUndefined();
  });
  it("prefers a pattern with the port over one without; a port pattern matches only its port", () => {
    expect(matchService(rules("localhost", "localhost:9000"), "localhost", 9000, "/")?.name).toBe("s1");
    expect(matchService(rules("localhost", "localhost:9000"), "localhost", 9001, "/")?.name).toBe("s0");
  });
  it("the longer literal path prefix wins, then declaration order", () => {
    const set = rules("slack.com", "slack.com/api/*", "slack.com/api/chat.*", "slack.com/api/*");
    expect(matchService(set, "slack.com", 443, "/api/chat.postMessage")?.name).toBe("s2");
    expect(matchService(set, "slack.com", 443, "/api/users.list")?.name).toBe("s1");
    expect(matchService(set, "slack.com", 443, "/oauth")?.name).toBe("s0");
  });
  it("path globs are anchored and treat regex characters literally", () => {
    expect(matchService(rules("slack.com/api/*"), "slack.com", 443, "/apix")).toBeUndefined();
    expect(matchService(rules("slack.com/a.b"), "slack.com", 443, "/axb")).toBeUndefined();
  });
});

describe("referenced KEYs", () => {
  it("lists every KEY an auth names, templates included, once", () => {
    expect(referencedKeys({ type: "basic", username: "U", password: "P" })).toEqual(["U", "P"]);
    expect(referencedKeys({ type: "custom", headers: { "x-a": "{{ A }}:{{B}}", "x-b": "k {{ A }}" } })).toEqual(["A", "B"]);
    expect(referencedKeys({ type: "passthrough" })).toEqual([]);
  });
});
