/**
 * The OAuth routes of a vault KEY (issue 12, section 1) over the vault auth mode: connect with
 * a member's session (the state bound to that user) or an API key, paste with validation,
 * status; refusals (bad KEY, agent keys); and a canary search over every answer and audit row.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { createKey, signupUser } from "./helpers/accounts";
import { proOwner } from "./helpers/store";
import { CLIENT_SECRET, followConnect, oauthProvider } from "./helpers/oauth";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function vault() {
  const owner = await proOwner("oauth");
  const key = await createKey(owner.token, owner.team.id, { name: "oauth key" });
  expect(key.status).toBe(201);
  return { owner, key: key.json.key as string, base: `/v1/vaults/${owner.team.id}/credentials` };
}

describe("OAuth routes of a vault KEY", () => {
  it("connects with a member's session end to end; status tells, nothing answers a token or the client secret", async () => {
    const { owner, key, base } = await vault();
    const provider = oauthProvider({ clientSecret: CLIENT_SECRET, codeTtl: 3600 });
    await provider.ready;
    const answers: string[] = [];
    const started = await call("POST", `${base}/GITHUB/oauth/connect`, {
      headers: bearer(owner.token),
      body: { authorization_url: provider.authorizationUrl, token_url: provider.tokenUrl, client_id: "client-1", client_secret: CLIENT_SECRET, scopes: "repo user", token_auth_method: "client_secret_basic" },
    });
    answers.push(started.text);
    expect(started.status).toBe(200);
    const url = new URL(started.json.authorizationUrl);
    expect(url.searchParams.get("redirect_uri")).toBe("https://vault.test/oauth/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    const state = await env.DB.prepare("SELECT user_id, actor_type FROM oauth_states WHERE team_id = ?").bind(owner.team.id).first();
    expect(state).toEqual({ user_id: owner.user.id, actor_type: "user" });

    const done = await followConnect(started.json.authorizationUrl);
    answers.push(done.html, done.complete.toString());
    expect(done.complete.searchParams.get("status")).toBe("success");
    const status = await call("GET", `${base}/GITHUB/oauth/status`, { key });
    answers.push(status.text);
    expect(status.status).toBe(200);
    expect(Object.keys(status.json).sort()).toEqual(["connected", "connectedAt", "expiresAt", "lastError", "lastRefreshedAt", "needsReconnect"]);
    expect(status.json).toMatchObject({ connected: true, needsReconnect: false, lastError: null });
    // The KEY is listed with its type.
    const list = await call("GET", `/v1/vaults/${owner.team.id}/credentials`, { key });
    answers.push(list.text);
    expect(list.json.credentials).toContainEqual(expect.objectContaining({ key: "GITHUB", type: "oauth" }));
    expect((await provider.stats()).clientAuth).toEqual(["client_secret_basic"]);

    const audit = await env.DB.prepare("SELECT action, actor_type, actor_id, metadata FROM audit_log WHERE team_id = ? AND action LIKE 'credential.oauth.%'").bind(owner.team.id).all();
    expect(audit.results).toEqual([expect.objectContaining({ action: "credential.oauth.connected", actor_type: "user", actor_id: owner.user.id })]);
    answers.push(JSON.stringify(audit.results));
    const secrets = [...(await provider.stats()).issued, CLIENT_SECRET];
    for (const text of answers) for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it("the callback refuses a browser whose portal session names another user, and accepts the starter's", async () => {
    const { owner, base } = await vault();
    const other = await signupUser("intruder");
    const provider = oauthProvider();
    await provider.ready;
    const body = { authorization_url: provider.authorizationUrl, token_url: provider.tokenUrl, client_id: "client-1" };
    const callbackOf = async () => {
      const started = await call("POST", `${base}/BOUND/oauth/connect`, { headers: bearer(owner.token), body });
      const consent = await fetch(started.json.authorizationUrl, { redirect: "manual" });
      return consent.headers.get("location")!;
    };
    const asOther = await SELF.fetch(await callbackOf(), { redirect: "manual", headers: { cookie: `__Host-tv_session=${other.token}` } });
    expect(new URL(asOther.headers.get("location")!).searchParams.get("error")).toBe("wrong_user");
    expect((await provider.stats()).codeCalls).toBe(0);
    const asOwner = await SELF.fetch(await callbackOf(), { redirect: "manual", headers: { cookie: `__Host-tv_session=${owner.token}` } });
    expect(new URL(asOwner.headers.get("location")!).searchParams.get("status")).toBe("success");
  });

  it("pastes tokens: a refused refresh token is 400 oauth_token_rejected and stores nothing; a good one connects", async () => {
    const { key, base } = await vault();
    const provider = oauthProvider();
    await provider.ready;
    const bogus = `rt-canary-${crypto.randomUUID()}`;
    const refused = await call("POST", `${base}/PASTED/oauth/tokens`, { key, body: { refresh_token: bogus, token_url: provider.tokenUrl, client_id: "client-1" } });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: "oauth_token_rejected", providerError: "invalid_grant" });
    expect(refused.text).not.toContain(bogus);
    expect((await call("GET", `${base}/PASTED/oauth/status`, { key })).status).toBe(404);

    const good = await provider.mintRefreshToken();
    const pasted = await call("POST", `${base}/PASTED/oauth/tokens`, { key, body: { refresh_token: good, token_url: provider.tokenUrl, client_id: "client-1" } });
    expect(pasted.status).toBe(200);
    expect(pasted.json).toMatchObject({ connected: true, needsReconnect: false });
    expect((await provider.stats()).refreshCalls).toBe(2);
    for (const secret of [good, ...(await provider.stats()).issued]) expect(pasted.text).not.toContain(secret);
  });

  it("refuses a malformed KEY, a body without tokens, a token_url the policy refuses, and agent keys", async () => {
    const { owner, key, base } = await vault();
    expect((await call("GET", `${base}/lower_case/oauth/status`, { key })).json.code).toBe("invalid_credential_key");
    const empty = await call("POST", `${base}/EMPTY/oauth/tokens`, { key, body: {} });
    expect([empty.status, empty.json.code]).toEqual([400, "validation_failed"]);
    const metadata = await call("POST", `${base}/META/oauth/connect`, { key, body: { authorization_url: "https://example.com/a", token_url: "http://169.254.169.254/latest", client_id: "c" } });
    expect([metadata.status, metadata.json.code, metadata.json.field]).toEqual([400, "url_not_allowed", "token_url"]);
    const agent = await createKey(owner.token, owner.team.id, { name: "agent", role: "agent" });
    const refused = await call("POST", `${base}/AGENT/oauth/connect`, { key: agent.json.key, body: { authorization_url: "https://example.com/a", token_url: "https://example.com/t", client_id: "c" } });
    expect([refused.status, refused.json.code]).toEqual([403, "insufficient_scope"]);
    expect((await call("GET", `${base}/NOPE/oauth/status`, { key })).status).toBe(404);
  });

  it("setting a static value over an OAuth KEY makes it static again", async () => {
    const { key, base, owner } = await vault();
    await call("POST", `${base}/FLIP/oauth/tokens`, { key, body: { access_token: "at-flip-0123456789" } });
    expect((await call("GET", `${base}/FLIP/oauth/status`, { key })).status).toBe(200);
    const set = await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key, body: { credentials: { FLIP: "static-value-0123" } } });
    expect(set.status).toBe(200);
    expect(set.json.credentials).toContainEqual(expect.objectContaining({ key: "FLIP", type: "static" }));
    expect((await call("GET", `${base}/FLIP/oauth/status`, { key })).status).toBe(404);
  });
});
