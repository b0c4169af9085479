import { describe, expect, it } from "vitest";
import { findAgentKey } from "../src/gateway/agent-key";
import { authHeaders, downstreamHeaders, upstreamHeaders } from "../src/gateway/headers";
import { parseIngress } from "../src/gateway/ingress";

const KEY = `tvk_01m85emjc1vt7f9148nm1mm1xb${"A".repeat(49)}`;
const OTHER = `tvk_01m85emjc1vt7f9148nm1mm1xc${"B".repeat(49)}`;

describe("the agent's key", () => {
  it("is found in Proxy-Authorization, X-Vault-Token, Authorization, x-api-key or any header, in that order", () => {
    expect(findAgentKey(new Headers({ "proxy-authorization": `Bearer ${KEY}`, authorization: `Bearer ${OTHER}` }))).toBe(KEY);
    expect(findAgentKey(new Headers({ "x-vault-token": KEY, authorization: `Bearer ${OTHER}` }))).toBe(KEY);
    expect(findAgentKey(new Headers({ authorization: `Bearer ${KEY}` }))).toBe(KEY);
    expect(findAgentKey(new Headers({ "x-api-key": KEY }))).toBe(KEY);
    expect(findAgentKey(new Headers({ "x-goog-api-key": KEY }))).toBe(KEY);
    expect(findAgentKey(new Headers({ authorization: `Token ${KEY}` }))).toBe(KEY);
    expect(findAgentKey(new Headers({ authorization: "Bearer sk-not-a-vault-key" }))).toBeUndefined();
  });
});

describe("headers sent upstream", () => {
  it("drop hop-by-hop headers, those the Connection header names, the vault's own, the platform's, and any vault key", () => {
    const out = upstreamHeaders(
      new Headers({
        connection: "keep-alive, x-drop-me",
        "x-drop-me": "1",
        "keep-alive": "timeout=5",
        te: "trailers",
        upgrade: "h2c",
        "proxy-authorization": `Bearer ${KEY}`,
        "x-vault-token": KEY,
        "x-vault-anything": "1",
        "cf-connecting-ip": "203.0.113.1",
        "x-other-key": `Bearer ${OTHER}`,
        accept: "application/json",
        "x-kept": "yes",
      }),
      KEY,
    );
    expect([...out.keys()].sort()).toEqual(["accept", "x-kept"]);
  });

  it("inject each auth type", () => {
    const values = new Map([["A", "va"], ["B", "vb"]]);
    expect(authHeaders({ type: "bearer", token: "A" }, values)).toEqual([["authorization", "Bearer va"]]);
    expect(authHeaders({ type: "basic", username: "A", password: "B" }, values)).toEqual([["authorization", `Basic ${btoa("va:vb")}`]]);
    expect(authHeaders({ type: "api-key", key: "A", header: "X-Api-Key", prefix: "Key " }, values)).toEqual([["X-Api-Key", "Key va"]]);
    expect(authHeaders({ type: "custom", headers: { "x-both": "{{ A }}-{{B}}" } }, values)).toEqual([["x-both", "va-vb"]]);
    expect(authHeaders({ type: "passthrough" }, values)).toEqual([]);
  });

  it("never pass Set-Cookie or hop-by-hop headers back", () => {
    const out = downstreamHeaders(new Headers({ "set-cookie": "a=b", "transfer-encoding": "chunked", "content-type": "text/plain", "x-upstream": "1" }));
    expect([...out.keys()].sort()).toEqual(["content-type", "x-upstream"]);
  });

  it("send a compressed upstream body as identity (the runtime decoded it; it would re-encode by the header)", () => {
    const upstream = new Headers({ "content-encoding": "br", "content-length": "10", "content-type": "application/json" });
    expect([...downstreamHeaders(upstream).keys()]).toEqual(["content-type"]);
  });
});

describe("ingress", () => {
  it("reads /proxy/{host}[:port]/{path}?{query} and /s/{service}/{path}", () => {
    expect(parseIngress(new URL("https://v/proxy/api.example.com:8443/v1/x%20y?q=1"))).toEqual({ form: "proxy", authority: "api.example.com:8443", path: "/v1/x%20y", search: "?q=1" });
    expect(parseIngress(new URL("https://v/proxy/api.example.com"))).toEqual({ form: "proxy", authority: "api.example.com", path: "/", search: "" });
    expect(parseIngress(new URL("https://v/s/openai/v1/chat/completions"))).toEqual({ form: "service", service: "openai", path: "/v1/chat/completions", search: "" });
    expect(parseIngress(new URL("https://v/proxy/"))).toBeUndefined();
    expect(parseIngress(new URL("https://v/s/%E0%A4%A/x"))).toBeUndefined();
  });
});
