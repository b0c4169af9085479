import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { flushProxyLog } from "../src/gateway/request-log";
import { auditRows, keyFor, proOwner } from "./helpers/store";
import { newTeam } from "./helpers/api";
import { deleteVaultKey, putService, putVaultKey, setUnmatchedPolicy, upstreamAuthority, viaProxy } from "./helpers/gateway";

/**
 * The credential-injecting proxy (issue 11, section 4) against the real local upstream
 * (test/fakes/upstream.ts), through the Worker's real fetch handler, gate, D1 and cipher.
 */
const canary = () => `sk-proxy-canary-${crypto.randomUUID().replace(/-/g, "")}`;
const ns = () => `proxy-${crypto.randomUUID()}`;

interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Every header value the upstream received, joined: where an agent key must never be. */
const allHeaderText = (echo: Echo) => Object.entries(echo.headers).map(([k, v]) => `${k}: ${v}`).join("\n");

async function expectProxyError(res: Response, status: number, code: string) {
  const body = await json<{ error: string; code: string; hint?: string }>(res);
  expect([res.status, body.code], JSON.stringify(body)).toEqual([status, code]);
  expect(typeof body.error).toBe("string");
  expect(res.headers.get("x-vault-proxy-error")).toBe("true");
  return body;
}

describe("the proxy", () => {
  let team: Awaited<ReturnType<typeof newTeam>>;
  let secret: string;
  const host = () => upstreamAuthority();

  beforeAll(async () => {
    team = await newTeam("pro");
    secret = canary();
    await putVaultKey(team.team.id, "UPSTREAM_TOKEN", secret);
    // With its port: /s/<service>/ goes to the service's host and port.
    await putService(team.team.id, { name: "upstream", host: upstreamAuthority(), auth: { type: "bearer", token: "UPSTREAM_TOKEN" } });
  });

  it("injects the service's bearer credential; the agent key (Proxy-Authorization) never reaches the upstream", async () => {
    const id = ns();
    const res = await viaProxy(`/proxy/${host()}/ns/${id}/echo-request?q=1`, { headers: { "proxy-authorization": `Bearer ${team.key}`, "x-vault-debug": "1", "x-client": "kept" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-vault-proxy-error")).toBeNull();
    const echo = await json<Echo>(res);
    expect(echo.path).toBe("/echo-request?q=1");
    expect(echo.headers.authorization).toBe(`Bearer ${secret}`);
    expect(echo.headers["x-client"]).toBe("kept");
    expect(echo.headers["proxy-authorization"]).toBeUndefined();
    expect(echo.headers["x-vault-debug"]).toBeUndefined();
    expect(allHeaderText(echo)).not.toContain(team.key);
    expect(allHeaderText(echo)).not.toContain("tvk_");
  });

  it("works for an SDK configured with base URL /s/<service>/... and apiKey = the vault key (Authorization: Bearer tvk_...)", async () => {
    const id = ns();
    const res = await viaProxy(`/s/upstream/ns/${id}/echo-request`, {
      method: "POST",
      headers: { authorization: `Bearer ${team.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-x", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const echo = await json<Echo>(res);
    expect(echo.method).toBe("POST");
    expect(JSON.parse(echo.body)).toEqual({ model: "gpt-x", messages: [{ role: "user", content: "hi" }] });
    expect(echo.headers.authorization).toBe(`Bearer ${secret}`);
    expect(allHeaderText(echo)).not.toContain(team.key);
  });

  it("takes the agent key from X-Vault-Token too, and strips it", async () => {
    const res = await viaProxy(`/proxy/${host()}/ns/${ns()}/echo-request`, { headers: { "x-vault-token": team.key, authorization: "Bearer client-side-value" } });
    const echo = await json<Echo>(res);
    // Injected headers win over the client's.
    expect(echo.headers.authorization).toBe(`Bearer ${secret}`);
    expect(allHeaderText(echo)).not.toContain(team.key);
  });

  it("streams a server-sent-events answer chunk by chunk", async () => {
    const id = ns();
    const res = await viaProxy(`/proxy/${host()}/ns/${id}/sse`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let first = "";
    while (!first.includes("\n\n")) {
      const chunk = await reader.read();
      if (chunk.done) break;
      first += decoder.decode(chunk.value, { stream: true });
    }
    // The upstream has not sent its last event yet: it waits to be released.
    expect(first).toBe("data: first\n\n");
    await fetch(`${env.UPSTREAM_URL}/__release/${id}`, { method: "POST" });
    let rest = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      rest += decoder.decode(chunk.value, { stream: true });
    }
    expect(rest).toBe("data: last\n\n");
  });

  it("returns redirects to the client instead of following them, and never passes Set-Cookie back", async () => {
    const id = ns();
    const redirected = await viaProxy(`/proxy/${host()}/ns/${id}/redirect?to=${encodeURIComponent("https://example.com/next")}&code=302`, { headers: { "proxy-authorization": `Bearer ${team.key}` }, redirect: "manual" });
    expect(redirected.status, await redirected.clone().text()).toBe(302);
    expect(redirected.headers.get("location")).toBe("https://example.com/next");
    const cookie = await viaProxy(`/proxy/${host()}/ns/${id}/cookie`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(cookie.status).toBe(200);
    expect(cookie.headers.get("x-upstream")).toBe("yes");
    expect(cookie.headers.get("set-cookie")).toBeNull();
  });

  it("passes a gzip-encoded answer through intact (an SDK gets what the upstream sent)", async () => {
    const res = await viaProxy(`/proxy/${host()}/ns/${ns()}/gzip`, { headers: { "proxy-authorization": `Bearer ${team.key}`, "accept-encoding": "gzip" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, pad: "z".repeat(2000) });
    // A client that asked for no encoding gets the body as identity (so does every client: the platform compresses).
    const plain = await viaProxy(`/proxy/${host()}/ns/${ns()}/gzip`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(JSON.parse(new TextDecoder().decode(await plain.arrayBuffer()))).toEqual({ ok: true, pad: "z".repeat(2000) });
  });

  it("forwards the upstream's own errors untouched (no X-Vault-Proxy-Error) and waits for a slow upstream", async () => {
    const failed = await viaProxy(`/proxy/${host()}/ns/${ns()}/status/503`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(failed.status).toBe(503);
    expect(failed.headers.get("x-vault-proxy-error")).toBeNull();
    expect(await failed.json()).toEqual({ status: 503 });
    const slow = await viaProxy(`/proxy/${host()}/ns/${ns()}/slow/300`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(await slow.json()).toEqual({ ok: true, slow: true });
  });
});

describe("every auth type", () => {
  it("bearer, basic, api-key (its header, its prefix, the agent key sitting in that header), custom templates and passthrough", async () => {
    const team = await newTeam("pro");
    const t = team.team.id;
    const [user, pass, apiKey, a, b] = [canary(), canary(), canary(), canary(), canary()];
    for (const [key, value] of [["USER", user], ["PASS", pass], ["API_KEY", apiKey], ["PART_A", a], ["PART_B", b]] as const) await putVaultKey(t, key, value);
    await putService(t, { name: "basic", host: "127.0.0.1/ns/basic-*", auth: { type: "basic", username: "USER", password: "PASS" } });
    await putService(t, { name: "apikey", host: "127.0.0.1/ns/apikey-*", auth: { type: "api-key", key: "API_KEY", header: "x-api-key", prefix: "Key " } });
    await putService(t, { name: "custom", host: "127.0.0.1/ns/custom-*", auth: { type: "custom", headers: { "x-a": "{{ PART_A }}", "x-both": "{{PART_A}}:{{ PART_B }}" } } });
    await putService(t, { name: "pass", host: "127.0.0.1/ns/pass-*", auth: { type: "passthrough" } });
    const through = async (kind: string, headers: Record<string, string>) => {
      const res = await viaProxy(`/proxy/${upstreamAuthority()}/ns/${kind}-${crypto.randomUUID()}/echo-request`, { headers });
      expect(res.status).toBe(200);
      const echo = await json<Echo>(res);
      expect(allHeaderText(echo)).not.toContain(team.key);
      return echo;
    };

    expect((await through("basic", { "proxy-authorization": `Bearer ${team.key}` })).headers.authorization).toBe(`Basic ${btoa(`${user}:${pass}`)}`);
    // The agent's key where the service's credential goes (x-api-key, as an SDK sends it): recognised and replaced.
    const viaApiKey = await through("apikey", { "x-api-key": team.key });
    expect(viaApiKey.headers["x-api-key"]).toBe(`Key ${apiKey}`);
    const custom = await through("custom", { "proxy-authorization": `Bearer ${team.key}`, "x-a": "client" });
    expect([custom.headers["x-a"], custom.headers["x-both"]]).toEqual([a, `${a}:${b}`]);
    const passthrough = await through("pass", { "x-vault-token": team.key, authorization: "Bearer the-clients-own" });
    expect(passthrough.headers.authorization).toBe("Bearer the-clients-own");
    // Passthrough never forwards a vault key either.
    const sdkStyle = await through("pass", { authorization: `Bearer ${team.key}` });
    expect(sdkStyle.headers.authorization).toBeUndefined();
  });
});

describe("matching priority", () => {
  it("a port beats none, the longer literal path wins, then declaration order", async () => {
    const team = await newTeam("pro");
    const t = team.team.id;
    for (const key of ["ANY", "PORT", "PATH", "FIRST", "SECOND"]) await putVaultKey(t, key, `value-of-${key}`);
    const port = new URL(env.UPSTREAM_URL).port;
    await putService(t, { name: "any", host: "127.0.0.1", auth: { type: "bearer", token: "ANY" } });
    await putService(t, { name: "port", host: `127.0.0.1:${port}`, auth: { type: "bearer", token: "PORT" } });
    await putService(t, { name: "path", host: "127.0.0.1/ns/path-*", auth: { type: "bearer", token: "PATH" } });
    await putService(t, { name: "first", host: `127.0.0.1:${port}/ns/order-*`, auth: { type: "bearer", token: "FIRST" } });
    await putService(t, { name: "second", host: `127.0.0.1:${port}/ns/order-*`, auth: { type: "bearer", token: "SECOND" } });
    const seen = async (prefix: string) => {
      const res = await viaProxy(`/proxy/${upstreamAuthority()}/ns/${prefix}-${crypto.randomUUID()}/echo-request`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
      return (await json<Echo>(res)).headers.authorization;
    };
    expect(await seen("plain")).toBe("Bearer value-of-PORT");
    // "path" has no port but a longer path; a port beats none first.
    expect(await seen("path")).toBe("Bearer value-of-PORT");
    expect(await seen("order")).toBe("Bearer value-of-FIRST");
  });
});

describe("the proxy's refusals: JSON {error, code} and X-Vault-Proxy-Error", () => {
  let team: Awaited<ReturnType<typeof newTeam>>;
  beforeAll(async () => {
    team = await newTeam("pro");
    await putVaultKey(team.team.id, "GOOD", canary());
    await putService(team.team.id, { name: "good", host: "127.0.0.1/ns/good-*", auth: { type: "bearer", token: "GOOD" } });
  });
  const agent = () => ({ "proxy-authorization": `Bearer ${team.key}` });
  const at = (prefix: string, tail = "ok") => `/proxy/${upstreamAuthority()}/ns/${prefix}-${crypto.randomUUID()}/${tail}`;

  it("407 with Proxy-Authenticate without a key, or with an invalid one", async () => {
    const none = await viaProxy(at("good"));
    await expectProxyError(none, 407, "proxy_auth_required");
    expect(none.headers.get("proxy-authenticate")).toMatch(/^Bearer realm="token-vault"/);
    const forged = `${team.key.slice(0, -6)}AAAAAA`;
    const invalid = await viaProxy(at("good"), { headers: { "proxy-authorization": `Bearer ${forged}` } });
    await expectProxyError(invalid, 407, "proxy_auth_required");
    expect(invalid.headers.get("proxy-authenticate")).toBeTruthy();
  });

  it("403 insufficient_scope for a key without proxy:use", async () => {
    const owner = await proOwner("proxy-scope");
    const narrow = await keyFor(owner, { scopes: ["tokens:read"] });
    await expectProxyError(await viaProxy(at("good"), { headers: { "proxy-authorization": `Bearer ${narrow.key}` } }), 403, "insufficient_scope");
  });

  it("403 no_matching_service naming the host and how to propose one, or passthrough when the vault says so", async () => {
    const res = await viaProxy(at("nomatch", "echo-request"), { headers: agent() });
    const body = await expectProxyError(res, 403, "no_matching_service");
    expect(body.hint).toContain("127.0.0.1");
    expect(body.hint).toContain("POST /v1/proposals");
    const unknown = await viaProxy(`/s/nope/v1/models`, { headers: agent() });
    await expectProxyError(unknown, 403, "no_matching_service");

    await setUnmatchedPolicy(team.team.id, "passthrough");
    const passed = await viaProxy(at("nomatch", "echo-request"), { headers: { ...agent(), authorization: "Bearer own" } });
    expect(passed.status).toBe(200);
    const echo = await json<Echo>(passed);
    expect(echo.headers.authorization).toBe("Bearer own");
    expect(allHeaderText(echo)).not.toContain(team.key);
    await setUnmatchedPolicy(team.team.id, "deny");
    await expectProxyError(await viaProxy(at("nomatch"), { headers: agent() }), 403, "no_matching_service");
  });

  it("403 service_disabled", async () => {
    await putService(team.team.id, { name: "off", host: "127.0.0.1/ns/off-*", auth: { type: "bearer", token: "GOOD" }, enabled: false });
    const body = await expectProxyError(await viaProxy(at("off"), { headers: agent() }), 403, "service_disabled");
    expect(body).toMatchObject({ service: "off" });
  });

  it("502 credential_not_found when a KEY the service names is gone, 502 credential_expired past its expiry", async () => {
    await putService(team.team.id, { name: "missing", host: "127.0.0.1/ns/missing-*", auth: { type: "bearer", token: "NEVER_SET" } });
    const missing = await expectProxyError(await viaProxy(at("missing"), { headers: agent() }), 502, "credential_not_found");
    expect(missing).toMatchObject({ keys: ["NEVER_SET"], service: "missing" });
    await putVaultKey(team.team.id, "OLD", canary(), { expiresAt: new Date(Date.now() - 1000).toISOString() });
    await putService(team.team.id, { name: "expired", host: "127.0.0.1/ns/expired-*", auth: { type: "bearer", token: "OLD" } });
    await expectProxyError(await viaProxy(at("expired"), { headers: agent() }), 502, "credential_expired");
  });

  it("honours the credential's allowedHosts", async () => {
    await putVaultKey(team.team.id, "BOUND", canary(), { allowedHosts: ["api.example.com"] });
    await putService(team.team.id, { name: "bound", host: "127.0.0.1/ns/bound-*", auth: { type: "bearer", token: "BOUND" } });
    await expectProxyError(await viaProxy(at("bound"), { headers: agent() }), 400, "credential_host_not_allowed");
  });

  // 502 upstream_error (a refused connection) is tested end to end (test/e2e/proxy.e2e.test.ts):
  // workerd logs each failed fetch on its stderr, which would land in the test output here.
  it("the URL policy refuses private targets", async () => {
    await expectProxyError(await viaProxy(`/proxy/10.0.0.1/x`, { headers: agent() }), 400, "url_not_allowed");
    await expectProxyError(await viaProxy(`/proxy/169.254.169.254/latest/meta-data`, { headers: agent() }), 400, "url_not_allowed");
  });

  it("429 from the team's rate limit, with the same headers as the API", async () => {
    const free = await newTeam("free");
    await putVaultKey(free.team.id, "K", canary());
    await putService(free.team.id, { name: "s", host: "127.0.0.1", auth: { type: "bearer", token: "K" } });
    let last: Response | undefined;
    for (let i = 0; i < 61; i++) {
      last = await viaProxy(`/proxy/${upstreamAuthority()}/ns/${ns()}/ok`, { headers: { "proxy-authorization": `Bearer ${free.key}` } });
      if (last.status === 429) break;
      await last.body?.cancel();
    }
    await expectProxyError(last!, 429, "rate_limited");
    expect(last!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(last!.headers.get("x-ratelimit-limit")).toBe("60");
    expect(last!.headers.get("x-ratelimit-remaining")).toBe("0");
  });
});

describe("the cache: warm requests read nothing from D1, changes apply on the very next request", () => {
  it("a changed service and a deleted credential take effect at once", async () => {
    const team = await newTeam("pro");
    const t = team.team.id;
    await putVaultKey(t, "ONE", "value-one");
    await putVaultKey(t, "TWO", "value-two");
    await putService(t, { name: "svc", host: upstreamAuthority(), auth: { type: "bearer", token: "ONE" } });
    const seen = async () => {
      const res = await viaProxy(`/s/svc/ns/${ns()}/echo-request`, { headers: { authorization: `Bearer ${team.key}` } });
      return res.status === 200 ? (await json<Echo>(res)).headers.authorization : `${res.status} ${(await json<{ code: string }>(res)).code}`;
    };
    expect(await seen()).toBe("Bearer value-one");
    await putService(t, { name: "svc", host: upstreamAuthority(), auth: { type: "bearer", token: "TWO" } });
    expect(await seen()).toBe("Bearer value-two");
    await putVaultKey(t, "TWO", "value-two-rotated");
    expect(await seen()).toBe("Bearer value-two-rotated");
    await deleteVaultKey(t, "TWO");
    expect(await seen()).toBe("502 credential_not_found");
    await putService(t, { name: "svc", host: upstreamAuthority(), auth: { type: "bearer", token: "ONE" }, enabled: false });
    expect(await seen()).toBe("403 service_disabled");
  });
});

describe("the request log", () => {
  it("keeps metadata only (no query, no header, no value), written in batches", async () => {
    const team = await newTeam("pro");
    const secret = canary();
    await putVaultKey(team.team.id, "LOGGED", secret);
    await putService(team.team.id, { name: "logged", host: "127.0.0.1", auth: { type: "bearer", token: "LOGGED" } });
    const id = ns();
    const ok = await viaProxy(`/proxy/${upstreamAuthority()}/ns/${id}/echo-request?token=${secret}`, { method: "POST", headers: { "proxy-authorization": `Bearer ${team.key}`, "x-extra": secret }, body: secret });
    expect(ok.status).toBe(200);
    const echoed = await ok.text();
    expect(echoed).toContain(secret); // the upstream echoed it back: the response is the upstream's
    const refused = await viaProxy(`/proxy/api.example.com/v1/x`, { headers: { "proxy-authorization": `Bearer ${team.key}` } });
    expect(refused.status).toBe(403);
    await refused.body?.cancel();
    await flushProxyLog(env);
    const rows = (await env.DB.prepare("SELECT * FROM proxy_log WHERE team_id = ? ORDER BY id").bind(team.team.id).all<Record<string, unknown>>()).results;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ method: "POST", host: upstreamAuthority(), path: `/ns/${id}/echo-request`, service: "logged", credential_keys: '["LOGGED"]', status: 200, error_code: null, api_key_id: team.apiKey.id });
    expect(rows[1]).toMatchObject({ method: "GET", host: "api.example.com", path: "/v1/x", service: null, credential_keys: "[]", status: 403, error_code: "no_matching_service" });
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(JSON.stringify(await auditRows(team.team.id))).not.toContain(secret);
  });
});
