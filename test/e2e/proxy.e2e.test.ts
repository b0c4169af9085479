/**
 * The agent gateway's proxy end to end: the real local server (`npm run dev`'s script) in front
 * of the fake third-party APIs (test/fakes/upstream.ts), set up through the vault's own routes
 * (KEY credentials, services, agent tokens), called as an agent's SDK would. Then the canary
 * search: the credential's value appears in no answer of the vault, no request-log row, no
 * audit row and no line of the server's output, and the agent's key reaches no upstream header.
 */
import { request as httpRequest } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "./free-port";
import { baseUrl, canary, createTeam, logLinesWith, namespace, recorded, request, responseHits, upstreamRecords, upstreamUrl, type CreatedTeam } from "./helpers";

/** A proxied call as an agent makes it (raw fetch: the answer is the upstream's, or the vault's refusal), recorded for the leak search. */
async function proxied(path: string, init: RequestInit = {}) {
  const response = await fetch(baseUrl() + path, { redirect: "manual", ...init });
  const text = await response.text();
  recorded.push({ method: init.method ?? "GET", path, status: response.status, headers: [...response.headers], text });
  let json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- assertions read arbitrary shapes
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/**
 * A 407 over node:http: fetch (undici, like browsers) turns every 407 into a network error by
 * the Fetch standard, so its JSON body is only readable by a plain HTTP client.
 */
function plainGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return new Promise((resolve, reject) => {
    const req = httpRequest(baseUrl() + path, { headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        recorded.push({ method: "GET", path, status: res.statusCode ?? 0, headers: Object.entries(res.headers).map(([k, v]) => [k, String(v)]), text });
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the proxy, end to end", () => {
  let team: CreatedTeam;
  let agentKey: string;
  let secret: string;
  const upstream = () => new URL(upstreamUrl()).host;

  beforeAll(async () => {
    team = await createTeam("pro");
    secret = canary();
    const vault = team.team.id;
    const set = await request("POST", `/v1/vaults/${vault}/credentials`, { key: team.key, body: { credentials: { UPSTREAM_TOKEN: secret } } });
    expect(set.status, set.text).toBeLessThan(300);
    const service = await request("POST", `/v1/vaults/${vault}/services`, { key: team.key, body: { name: "up", host: upstream(), auth: { type: "bearer", token: "UPSTREAM_TOKEN" } } });
    expect(service.status, service.text).toBeLessThan(300);
    const minted = await request("POST", `/v1/vaults/${vault}/agent-tokens`, { key: team.key, body: { name: "e2e agent", ttl: "1h" } });
    expect(minted.status, minted.text).toBe(201);
    agentKey = minted.json.key;
  });

  it("serves an SDK configured with base URL /s/<service>/... and apiKey = the agent token, unmodified", async () => {
    const id = namespace("sdk");
    // What an OpenAI-style SDK does with { baseURL, apiKey }: POST `${baseURL}/chat/completions`, Authorization: Bearer <apiKey>.
    const sdk = { baseURL: `${baseUrl()}/s/up/ns/${id}`, apiKey: agentKey };
    const body = JSON.stringify({ model: "gpt-x", messages: [{ role: "user", content: "hi" }], stream: false });
    const res = await fetch(`${sdk.baseURL}/echo-request`, { method: "POST", headers: { Authorization: `Bearer ${sdk.apiKey}`, "Content-Type": "application/json", "User-Agent": "OpenAI/JS 5.0.0" }, body });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const [seen] = await upstreamRecords(id);
    expect(seen?.method).toBe("POST");
    expect(seen?.body).toBe(body);
    expect(seen?.headers.authorization).toBe(`Bearer ${secret}`);
    expect(seen?.headers["user-agent"]).toBe("OpenAI/JS 5.0.0");
    expect(JSON.stringify(seen?.headers)).not.toContain(agentKey);
  });

  it("forwards /proxy/{host}/... with Proxy-Authorization, streams server-sent events, returns redirects", async () => {
    const id = namespace("explicit");
    const ok = await proxied(`/proxy/${upstream()}/ns/${id}/ok?x=1`, { headers: { "Proxy-Authorization": `Bearer ${agentKey}` } });
    expect([ok.status, ok.json]).toEqual([200, { ok: true }]);
    const [seen] = await upstreamRecords(id);
    expect(seen?.path).toBe("/ok?x=1");
    expect(seen?.headers["proxy-authorization"]).toBeUndefined();

    const sse = await fetch(`${baseUrl()}/proxy/${upstream()}/ns/${id}/sse`, { headers: { "Proxy-Authorization": `Bearer ${agentKey}` } });
    const reader = sse.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe("data: first\n\n"); // before the upstream sends its last event
    await fetch(`${upstreamUrl()}/__release/${id}`, { method: "POST" });
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe("data: last\n\n");

    const redirect = await proxied(`/proxy/${upstream()}/ns/${id}/redirect?to=${encodeURIComponent("https://example.com/")}`, { headers: { "Proxy-Authorization": `Bearer ${agentKey}` } });
    expect([redirect.status, redirect.headers.get("location")]).toEqual([302, "https://example.com/"]);
  });

  it("answers its refusals as JSON with X-Vault-Proxy-Error: 407, 403, 502 upstream_error", async () => {
    const none = await plainGet(`/proxy/${upstream()}/ns/x/ok`);
    expect([none.status, none.json.code, none.headers["x-vault-proxy-error"]]).toEqual([407, "proxy_auth_required", "true"]);
    expect(none.headers["proxy-authenticate"]).toMatch(/^Bearer /);
    const invalid = await plainGet(`/s/up/v1/x`, { authorization: `Bearer ${agentKey.slice(0, -6)}AAAAAA` });
    expect([invalid.status, invalid.json.code]).toEqual([407, "proxy_auth_required"]);
    const unmatched = await proxied(`/proxy/api.example.com/v1/x`, { headers: { "X-Vault-Token": agentKey } });
    expect([unmatched.status, unmatched.json.code]).toEqual([403, "no_matching_service"]);
    expect(unmatched.json.hint).toContain("api.example.com");
    // A refused connection: nothing listens on a fresh free port.
    const port = await freePort();
    const service = await request("POST", `/v1/vaults/${team.team.id}/services`, { key: team.key, body: { name: "closed", host: `127.0.0.1:${port}`, auth: { type: "bearer", token: "UPSTREAM_TOKEN" } } });
    expect(service.status, service.text).toBeLessThan(300);
    const refused = await proxied(`/s/closed/v1/x`, { headers: { Authorization: `Bearer ${agentKey}` } });
    expect([refused.status, refused.json.code, refused.headers.get("x-vault-proxy-error")]).toEqual([502, "upstream_error", "true"]);
    expect(refused.json.error).toContain("connection refused");
  });

  it("leaks the credential nowhere: vault answers, the request log, audit rows, server output", async () => {
    // Give the request log's batch (about a second) time to land.
    let logs = await request("GET", `/v1/vaults/${team.team.id}/logs`, { key: team.key });
    for (let i = 0; i < 20 && (logs.status !== 200 || JSON.stringify(logs.json).split('"status"').length < 4); i++) {
      await new Promise((r) => setTimeout(r, 250));
      logs = await request("GET", `/v1/vaults/${team.team.id}/logs`, { key: team.key });
    }
    expect(logs.status, logs.text).toBe(200);
    expect(JSON.stringify(logs.json)).toContain("/ok");
    expect(JSON.stringify(logs.json)).not.toContain("x=1");
    const audit = await request("GET", "/v1/audit?limit=100", { key: team.key });
    expect(audit.status).toBe(200);
    // The vault's own answers (the upstream's echo of what it received is not the vault's).
    expect(responseHits(secret).filter((hit) => !hit.includes("/echo-request"))).toEqual([]);
    expect(logLinesWith(secret)).toEqual([]);
    expect(logLinesWith(agentKey)).toEqual([]);
  });
});
