/**
 * OAuth credentials (issue 12, section 1) against a real local fake provider
 * (test/fakes/oauth-provider.ts): the connect flow end to end (the browser's redirects
 * followed by hand), the token endpoint client, injection into tasks by tok_ reference,
 * refresh before expiry, single-flight under 50 concurrent injections, the proactive alarm,
 * invalid_grant and reconnect, failures that must not store anything, and canary searches.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkStateUser } from "../src/oauth/browser-user";
import { startConnect } from "../src/oauth/connect";
import { oauthStatus, pasteTokens } from "../src/oauth/credentials";
import { currentAccessToken, OAuthUnavailableError } from "../src/oauth/inject";
import { loadByKey, openClient } from "../src/oauth/store";
import { createContext } from "../src/context";
import type { Env } from "../src/env";
import { reencryptBatch } from "../src/vault/reencrypt";
import { TEST_MASTER_KEY_V1, TEST_MASTER_KEY_V2 } from "./helpers/constants";
import { AppError } from "../src/errors";
import { call, newTeam } from "./helpers/api";
import { adminContext, apiKeyContext, teamOf } from "./helpers/context";
import { CLIENT_SECRET, connect, followConnect, oauthProvider } from "./helpers/oauth";
import { awaitTask } from "./helpers/tasks";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function auditRows(teamId: string) {
  const { results } = await env.DB.prepare("SELECT action, metadata FROM audit_log WHERE team_id = ? ORDER BY id").bind(teamId).all<{ action: string; metadata: string | null }>();
  return results;
}

async function tokenIdOf(teamId: string, key: string): Promise<string> {
  const row = await loadByKey(env, teamId, key);
  if (!row) throw new Error(`no OAuth credential ${key}`);
  return row.token_id;
}

/** Everything stored about a team that a person or tool could read: rows of every table that names it. */
async function storedText(teamId: string): Promise<string> {
  const tables = ["audit_log", "oauth_credentials", "oauth_states", "tokens", "tasks"];
  const parts = await Promise.all(tables.map(async (t) => JSON.stringify((await env.DB.prepare(`SELECT * FROM ${t} WHERE team_id = ?`).bind(teamId).all()).results)));
  return parts.join("\n");
}

describe("connect with a provider (Authorization Code + PKCE S256)", () => {
  it("connects end to end: authorization URL, consent, callback, completion page; the token is stored sealed", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ clientSecret: CLIENT_SECRET });
    const { started, complete, html, callbackStatus } = await connect(ctx, provider, "GITHUB", { client_secret: CLIENT_SECRET });
    const url = new URL(started.authorizationUrl);
    expect(url.origin + url.pathname).toBe(provider.authorizationUrl);
    expect(url.searchParams.get("redirect_uri")).toBe("https://vault.test/oauth/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get("scope")).toBe("read write");
    // Nothing secret in the URL the browser is sent to.
    expect(started.authorizationUrl).not.toContain(CLIENT_SECRET);
    expect(callbackStatus).toBe(303);
    expect(complete.pathname).toBe("/oauth/complete");
    expect(complete.searchParams.get("status")).toBe("success");
    expect(html).toContain("Connected");
    expect(html).toContain("GITHUB");

    const stats = await provider.stats();
    expect(stats.codeCalls).toBe(1);
    expect(stats.clientAuth).toEqual(["client_secret_post"]);
    const status = await oauthStatus(ctx, "GITHUB");
    expect(status).toMatchObject({ connected: true, needsReconnect: false, lastError: null, lastRefreshedAt: null });
    expect(Date.parse(status.expiresAt!)).toBeGreaterThan(Date.now() + 3000_000);
    const row = await env.DB.prepare("SELECT kind, type, name FROM tokens WHERE team_id = ? AND name = 'GITHUB'").bind(team.team.id).first();
    expect(row).toEqual({ kind: "vault_key", type: "oauth", name: "GITHUB" });
    expect((await auditRows(team.team.id)).map((r) => r.action)).toContain("credential.oauth.connected");
    // Tokens, client secret: never stored in clear, never in an audit row.
    const stored = await storedText(team.team.id);
    for (const secret of [...stats.issued, CLIENT_SECRET]) expect(stored).not.toContain(secret);
    expect(await currentAccessToken(ctx, await tokenIdOf(team.team.id, "GITHUB"))).toBe(stats.issued[0]);
  });

  it("authenticates the client with client_secret_basic when asked", async () => {
    const team = await newTeam();
    const provider = oauthProvider({ clientSecret: CLIENT_SECRET });
    const { complete } = await connect(await apiKeyContext(team), provider, "BASIC_ONE", { client_secret: CLIENT_SECRET, token_auth_method: "client_secret_basic" });
    expect(complete.searchParams.get("status")).toBe("success");
    expect((await provider.stats()).clientAuth).toEqual(["client_secret_basic"]);
  });

  it("uses a state once: a replayed callback is refused and changes nothing", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider();
    await provider.ready;
    const started = await startConnect(ctx, "ONCE", { authorization_url: provider.authorizationUrl, token_url: provider.tokenUrl, client_id: "client-1" }, "https://vault.test");
    const consent = await fetch(started.authorizationUrl, { redirect: "manual" });
    const back = consent.headers.get("location")!;
    const first = await SELF.fetch(back, { redirect: "manual" });
    expect(new URL(first.headers.get("location")!).searchParams.get("status")).toBe("success");
    const replay = await SELF.fetch(back, { redirect: "manual" });
    const done = new URL(replay.headers.get("location")!);
    expect(done.searchParams.get("status")).toBe("error");
    expect(done.searchParams.get("error")).toBe("state_used");
    expect((await provider.stats()).codeCalls).toBe(1);
  });

  it("refuses unknown and expired states, and shows provider errors (access_denied) escaped, never a 500", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const unknown = await SELF.fetch("https://vault.test/oauth/callback?code=x&state=nope", { redirect: "manual" });
    expect(unknown.status).toBe(303);
    expect(new URL(unknown.headers.get("location")!).searchParams.get("error")).toBe("unknown_state");
    const empty = await SELF.fetch("https://vault.test/oauth/callback", { redirect: "manual" });
    expect(empty.status).toBe(303);

    const provider = oauthProvider();
    await provider.ready;
    const started = await startConnect(ctx, "LATE", { authorization_url: provider.authorizationUrl, token_url: provider.tokenUrl, client_id: "client-1" }, "https://vault.test");
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE team_id = ?").bind(new Date(Date.now() - 1000).toISOString(), team.team.id).run();
    const late = await followConnect(started.authorizationUrl);
    expect(late.complete.searchParams.get("error")).toBe("state_expired");
    expect((await provider.stats()).codeCalls).toBe(0);

    await provider.configure({ deny: true });
    const denied = await connect(ctx, provider, "DENIED");
    expect(denied.complete.searchParams.get("status")).toBe("error");
    expect(denied.complete.searchParams.get("error")).toBe("access_denied");
    expect(denied.html).toContain("access_denied");
    expect(denied.html).toContain("The user denied &lt;access&gt;");
    expect(denied.html).not.toContain("<access>");
    expect(await loadByKey(env, team.team.id, "DENIED")).toBeNull();

    const page = await SELF.fetch("https://vault.test/oauth/complete?status=error&error=%3Cscript%3E&description=%3Cimg%20src%3Dx%3E");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe("default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x&gt;");
  });

  it("binds the state to the user who started: another user's portal session is refused", () => {
    expect(checkStateUser("usr_a", undefined)).toEqual({ ok: true });
    expect(checkStateUser("usr_a", "usr_a")).toEqual({ ok: true });
    expect(checkStateUser("usr_a", "usr_b")).toEqual({ ok: false, reason: "wrong_user" });
    expect(checkStateUser(null, "usr_b")).toEqual({ ok: true });
  });

  it("refuses provider URLs the outbound policy refuses", async () => {
    const ctx = await apiKeyContext(await newTeam());
    const attempt = startConnect(ctx, "X", { authorization_url: "https://example.com/auth", token_url: "http://169.254.169.254/token", client_id: "c" }, "https://vault.test");
    await expect(attempt).rejects.toMatchObject({ code: "url_not_allowed", details: { field: "token_url" } });
  });
});

describe("refresh", () => {
  it("refreshes a token within 5 minutes of expiry before injecting it, keeping the rotated refresh token", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 120, refreshTtl: 3600 });
    await connect(ctx, provider, "SOON");
    const id = await tokenIdOf(team.team.id, "SOON");
    const token = await currentAccessToken(ctx, id);
    const stats = await provider.stats();
    expect(stats.refreshCalls).toBe(1);
    expect(token).toBe(stats.issued[2]);
    // The rotated refresh token was kept: the next refresh (forced) uses it and succeeds.
    const again = await currentAccessToken(ctx, id, { rejectedToken: token });
    expect((await provider.stats()).refreshCalls).toBe(2);
    expect(again).not.toBe(token);
    const status = await oauthStatus(ctx, "SOON");
    expect(status.lastRefreshedAt).not.toBeNull();
    expect(status.connected).toBe(true);
    expect((await auditRows(team.team.id)).filter((r) => r.action === "credential.oauth.refreshed")).toHaveLength(2);
  });

  it("the warm path answers from the refresher's memory (no D1 read); a reconnect replaces it at once", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider();
    await connect(ctx, provider, "WARM");
    const id = await tokenIdOf(team.team.id, "WARM");
    const first = await currentAccessToken(ctx, id);
    // Were the row read again, this would fail to decrypt.
    await env.DB.prepare("UPDATE tokens SET iv = 'AAAAAAAAAAAAAAAA' WHERE id = ?").bind(id).run();
    expect(await currentAccessToken(ctx, id)).toBe(first);
    await connect(ctx, provider, "WARM");
    const second = await currentAccessToken(ctx, id);
    expect(second).not.toBe(first);
    expect(second).toBe((await provider.stats()).issued.at(-2));
  });

  it("50 concurrent injections during expiry make exactly one token endpoint call", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 60, refreshTtl: 3600, slowMs: 300 });
    await connect(ctx, provider, "BUSY");
    const id = await tokenIdOf(team.team.id, "BUSY");
    const tokens = await Promise.all(Array.from({ length: 50 }, () => currentAccessToken(ctx, id)));
    const stats = await provider.stats();
    expect(stats.refreshCalls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toBe(stats.issued.at(-2));
  });

  it("concurrent 401s force one refresh: a rejected token is replaced once", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider();
    await connect(ctx, provider, "REJECTED");
    const id = await tokenIdOf(team.team.id, "REJECTED");
    const old = await currentAccessToken(ctx, id);
    const fresh = await Promise.all(Array.from({ length: 10 }, () => currentAccessToken(ctx, id, { rejectedToken: old })));
    expect((await provider.stats()).refreshCalls).toBe(1);
    expect(new Set(fresh).size).toBe(1);
    expect(fresh[0]).not.toBe(old);
  });

  it("refreshes proactively with an alarm before expiry, without any injection", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 4, refreshTtl: 3600 });
    await connect(ctx, provider, "AHEAD");
    for (let i = 0; i < 40 && (await provider.stats()).refreshCalls === 0; i++) await sleep(250);
    expect((await provider.stats()).refreshCalls).toBe(1);
    const status = await oauthStatus(ctx, "AHEAD");
    expect(status.lastRefreshedAt).not.toBeNull();
    expect(Date.parse(status.expiresAt!)).toBeGreaterThan(Date.now() + 3000_000);
    const audit = (await auditRows(team.team.id)).find((r) => r.action === "credential.oauth.refreshed");
    expect(audit).toBeDefined();
  });

  it("invalid_grant marks needsReconnect and stops calling the token endpoint; a reconnect heals it", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 1, refreshTtl: 3600, refreshMode: "invalid_grant" });
    await connect(ctx, provider, "DEAD");
    const id = await tokenIdOf(team.team.id, "DEAD");
    await sleep(1100);
    // Whichever asks first after the expiry (the proactive alarm or this injection) meets invalid_grant.
    const first = await currentAccessToken(ctx, id).catch((e: unknown) => e);
    expect(["oauth_refresh_failed", "oauth_not_connected"]).toContain((first as OAuthUnavailableError).code);
    for (let i = 0; i < 3; i++) await expect(currentAccessToken(ctx, id)).rejects.toMatchObject({ code: "oauth_not_connected" });
    expect((await provider.stats()).refreshCalls).toBe(1);
    const status = await oauthStatus(ctx, "DEAD");
    expect(status).toMatchObject({ connected: false, needsReconnect: true });
    expect(status.lastError).toContain("invalid_grant");
    const failed = (await auditRows(team.team.id)).filter((r) => r.action === "credential.oauth.refresh_failed");
    expect(failed).toHaveLength(1);
    expect(JSON.parse(failed[0]!.metadata!)).toMatchObject({ key: "DEAD", error: "invalid_grant", needsReconnect: true });

    await provider.configure({ refreshMode: "ok", codeTtl: 3600 });
    const again = await connect(ctx, provider, "DEAD");
    expect(again.complete.searchParams.get("status")).toBe("success");
    expect(await tokenIdOf(team.team.id, "DEAD")).toBe(id);
    expect(await oauthStatus(ctx, "DEAD")).toMatchObject({ connected: true, needsReconnect: false, lastError: null });
    expect(await currentAccessToken(ctx, id)).toBe((await provider.stats()).issued.at(-2));
  });

  it("a 200 carrying {error} and a 200 without an access token are failures; nothing is stored, no token leaks into lastError", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 1, refreshMode: "error200" });
    await connect(ctx, provider, "FLAKY");
    const id = await tokenIdOf(team.team.id, "FLAKY");
    const before = await env.DB.prepare("SELECT ciphertext FROM tokens WHERE id = ?").bind(id).first<{ ciphertext: string }>();
    await sleep(1100);
    const failure = await currentAccessToken(ctx, id).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OAuthUnavailableError);
    expect((failure as OAuthUnavailableError).code).toBe("oauth_refresh_failed");
    const status = await oauthStatus(ctx, "FLAKY");
    expect(status.lastError).toContain("temporarily_unavailable");
    expect(status.needsReconnect).toBe(false);
    const stats = await provider.stats();
    // The fake echoes the refresh token in its error_description: redacted before it is kept.
    for (const secret of stats.issued) {
      expect(status.lastError).not.toContain(secret);
      expect((failure as Error).message).not.toContain(secret);
    }
    expect((await env.DB.prepare("SELECT ciphertext FROM tokens WHERE id = ?").bind(id).first<{ ciphertext: string }>())?.ciphertext).toBe(before?.ciphertext);

    // A 200 with an empty access token: never stored (it would be injected as "Bearer ").
    await provider.configure({ refreshMode: "empty" });
    // Past the failure backoff of the refresher: a fresh provider answer is asked for by a forced refresh.
    await env.DB.prepare("UPDATE oauth_credentials SET last_error = NULL WHERE token_id = ?").bind(id).run();
    const empty = await currentAccessToken(ctx, id, { rejectedToken: stats.issued[0] }).catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: "oauth_refresh_failed" });
    expect((empty as Error).message).toContain("no_access_token");
    expect((await env.DB.prepare("SELECT ciphertext FROM tokens WHERE id = ?").bind(id).first<{ ciphertext: string }>())?.ciphertext).toBe(before?.ciphertext);
  });
});

describe("paste tokens", () => {
  it("validates a refresh token by refreshing at once and keeps the rotated one", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ clientSecret: CLIENT_SECRET });
    await provider.ready;
    const refresh = await provider.mintRefreshToken();
    const status = await pasteTokens(ctx, "PASTED", { refresh_token: refresh, token_url: provider.tokenUrl, client_id: "client-1", client_secret: CLIENT_SECRET });
    expect(status).toMatchObject({ connected: true, needsReconnect: false });
    const stats = await provider.stats();
    expect(stats.refreshCalls).toBe(1);
    const id = await tokenIdOf(team.team.id, "PASTED");
    expect(await currentAccessToken(ctx, id)).toBe(stats.issued.at(-2));
    // The pasted refresh token was rotated away: a forced refresh works only with the kept new one.
    await currentAccessToken(ctx, id, { rejectedToken: stats.issued.at(-2) });
    expect((await provider.stats()).refreshCalls).toBe(2);
    expect((await oauthStatus(ctx, "PASTED")).lastError).toBeNull();
  });

  it("on a refused refresh token stores nothing and answers 400 with the provider's error", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider();
    await provider.ready;
    const bogus = `rt-canary-${crypto.randomUUID()}`;
    const failure = await pasteTokens(ctx, "NOPE", { refresh_token: bogus, token_url: provider.tokenUrl, client_id: "client-1" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: "oauth_token_rejected", status: 400, details: { providerError: "invalid_grant" } });
    expect(JSON.stringify((failure as AppError).details) + (failure as Error).message).not.toContain(bogus);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tokens WHERE team_id = ? AND name = 'NOPE'").bind(team.team.id).first("n")).toBe(0);
    expect(await storedText(team.team.id)).not.toContain(bogus);
  });

  it("stores an access token alone; without a refresh token an expired one is not connected", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const access = `at-canary-${crypto.randomUUID()}`;
    await pasteTokens(ctx, "STATIC_AT", { access_token: access });
    const id = await tokenIdOf(team.team.id, "STATIC_AT");
    expect(await currentAccessToken(ctx, id)).toBe(access);
    await pasteTokens(ctx, "SHORT_AT", { access_token: access, expires_in: 1 });
    await sleep(1100);
    await expect(currentAccessToken(ctx, await tokenIdOf(team.team.id, "SHORT_AT"))).rejects.toMatchObject({ code: "oauth_not_connected" });
    expect(await oauthStatus(ctx, "SHORT_AT")).toMatchObject({ connected: false });
    expect(await storedText(team.team.id)).not.toContain(access);
  });
});

describe("injection into tasks (tok_ references)", () => {
  it("a task referencing an OAuth credential sends its current access token, refreshed first when due", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const provider = oauthProvider({ codeTtl: 60, refreshTtl: 3600 });
    await connect(ctx, provider, "TASKED");
    const id = await tokenIdOf(team.team.id, "TASKED");
    const created = await call("POST", "/v1/tasks", { key: team.key, body: { targetUrl: provider.apiUrl, method: "GET", headers: { Authorization: `Bearer ${id}` } } });
    expect(created.status).toBe(201);
    const task = await awaitTask(team.key, created.json.task.id);
    expect(task.status).toBe("completed");
    expect(task.result.statusCode).toBe(200);
    const stats = await provider.stats();
    expect(stats.refreshCalls).toBe(1);
    const answer = JSON.stringify(await call("GET", `/v1/tasks/${created.json.task.id}`, { key: team.key }));
    for (const secret of stats.issued) expect(answer).not.toContain(secret);
    expect(await storedText(team.team.id)).not.toContain(stats.issued.at(-2));
  });
});

describe("master key re-encryption", () => {
  it("reseals the refresh token and client secret with the rows: they open under the new key alone", async () => {
    const withKeys = (keys: Partial<Env>): Env => ({ ...env, VAULT_MASTER_KEY: undefined, VAULT_MASTER_KEYS: undefined, ...keys });
    const v1Only = withKeys({ VAULT_MASTER_KEY: TEST_MASTER_KEY_V1 });
    const both = withKeys({ VAULT_MASTER_KEYS: `1:${TEST_MASTER_KEY_V1},2:${TEST_MASTER_KEY_V2}` });
    const v2Only = withKeys({ VAULT_MASTER_KEYS: `2:${TEST_MASTER_KEY_V2}` });
    const created = await newTeam();
    const team = await teamOf(created.team.id);
    const as = (worker: Env) => createContext({ requestId: "req_test", env: worker, actor: { type: "api_key" as const, id: created.apiKey.id, role: "standard" as const }, team });
    const provider = oauthProvider({ clientSecret: CLIENT_SECRET });
    await provider.ready;
    await pasteTokens(as(v1Only), "REENC", { refresh_token: await provider.mintRefreshToken(), token_url: provider.tokenUrl, client_id: "client-1", client_secret: CLIENT_SECRET });
    let result;
    do {
      result = await reencryptBatch(adminContext(both), 50);
      expect(JSON.stringify(result)).not.toContain(CLIENT_SECRET);
    } while (result.remaining > 0);
    const row = (await loadByKey(env, team.id, "REENC"))!;
    expect(row.key_version).toBe(2);
    const target = { teamId: team.id, keySalt: team.keySalt, tokenId: row.token_id };
    const opened = await openClient(v2Only, target, row);
    expect(opened.client?.clientSecret).toBe(CLIENT_SECRET);
    expect(opened.refreshToken).toBe((await provider.stats()).issued.at(-1));
  });
});
