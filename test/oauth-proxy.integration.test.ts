/**
 * OAuth credentials through the proxy (issue 12 with issue 11's proxy): a service naming an
 * OAuth KEY gets its current access token, refreshed first when due; 50 concurrent proxied
 * requests during expiry make one token endpoint call; an upstream 401 to a GET forces one
 * refresh and one retry (never for a POST); invalid_grant answers 502 oauth_refresh_failed,
 * then oauth_not_connected; no token in any answer or the request log.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { flushProxyLog } from "../src/gateway/request-log";
import { newTeam } from "./helpers/api";
import { apiKeyContext } from "./helpers/context";
import { putService, upstreamAuthority, viaProxy } from "./helpers/gateway";
import { connect, oauthProvider, type Provider } from "./helpers/oauth";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(config: Record<string, unknown>, name: string) {
  const team = await newTeam("pro");
  const provider = oauthProvider(config);
  const done = await connect(await apiKeyContext(team), provider, name);
  expect(done.complete.searchParams.get("status")).toBe("success");
  await putService(team.team.id, { name: name.toLowerCase(), host: upstreamAuthority(), auth: { type: "bearer", token: name } });
  const get = (method = "GET") => viaProxy(`/proxy/${upstreamAuthority()}/oauth/${provider.ns}/api`, { method, headers: { "proxy-authorization": `Bearer ${team.key}` } });
  return { team, provider, get };
}

async function secretsOf(provider: Provider) {
  return (await provider.stats()).issued;
}

describe("OAuth credentials through the proxy", () => {
  it("injects the current access token as the service's bearer credential", async () => {
    const { provider, get, team } = await setup({}, "GITHUB");
    const res = await get();
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toBe('{"ok":true}');
    expect((await provider.stats()).refreshCalls).toBe(0);
    await flushProxyLog(env);
    const log = JSON.stringify((await env.DB.prepare("SELECT * FROM proxy_log WHERE team_id = ?").bind(team.team.id).all()).results);
    for (const secret of await secretsOf(provider)) expect(log + text).not.toContain(secret);
  });

  it("50 concurrent proxied requests during expiry: exactly one token endpoint call, all succeed", async () => {
    const { provider, get } = await setup({ codeTtl: 60, refreshTtl: 3600, slowMs: 200 }, "BUSY");
    const answers = await Promise.all(Array.from({ length: 50 }, () => get()));
    expect(answers.map((r) => r.status)).toEqual(Array(50).fill(200));
    await Promise.all(answers.map((r) => r.body?.cancel()));
    expect((await provider.stats()).refreshCalls).toBe(1);
  });

  it("an upstream 401 to a GET forces one refresh and one retry; a POST's 401 is returned as is", async () => {
    const { provider, get } = await setup({}, "REVOKED");
    expect((await get()).status).toBe(200);
    await provider.expireAccessTokens();
    const retried = await get();
    expect(retried.status).toBe(200);
    expect((await provider.stats()).refreshCalls).toBe(1);
    await provider.expireAccessTokens();
    const posted = await get("POST");
    expect(posted.status).toBe(401);
    expect(posted.headers.get("x-vault-proxy-error")).toBeNull();
    expect((await provider.stats()).refreshCalls).toBe(1);
  });

  it("invalid_grant: 502 oauth_refresh_failed (or oauth_not_connected once marked), never calling the provider again", async () => {
    const { provider, get } = await setup({ codeTtl: 1, refreshMode: "invalid_grant" }, "DEAD");
    await sleep(1100);
    const first = await get();
    expect(first.status).toBe(502);
    expect(first.headers.get("x-vault-proxy-error")).toBe("true");
    expect(["oauth_refresh_failed", "oauth_not_connected"]).toContain(((await first.json()) as { code: string }).code);
    const again = await get();
    expect([again.status, ((await again.json()) as { code: string }).code]).toEqual([502, "oauth_not_connected"]);
    expect((await provider.stats()).refreshCalls).toBe(1);
  });
});
