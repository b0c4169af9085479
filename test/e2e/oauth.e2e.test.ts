/**
 * OAuth credentials through the real local server (issue 12): the connect flow as a browser
 * does it (authorization URL -> the fake provider's consent -> the vault's callback -> the
 * completion page, redirects followed with fetch), status, paste validation, a task using the
 * KEY's tok_ id, and a canary search: no token and no client secret in any answer, in the
 * server's log, or in the audit trail.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { baseUrl, createTeam, logLinesWith, request, responseHits, upstreamUrl, waitForTask } from "./helpers";

const provider = (ns: string) => ({
  authorize: `${upstreamUrl()}/oauth/${ns}/authorize`,
  token: `${upstreamUrl()}/oauth/${ns}/token`,
  api: `${upstreamUrl()}/oauth/${ns}/api`,
  stats: async () => (await (await fetch(`${upstreamUrl()}/__oauth/${ns}/stats`)).json()) as { tokenCalls: number; refreshCalls: number; issued: string[] },
  configure: (config: Record<string, unknown>) => fetch(`${upstreamUrl()}/__oauth/${ns}/config`, { method: "POST", body: JSON.stringify(config) }),
});

describe("OAuth credentials end to end", () => {
  it("connects through the browser flow, injects into a task, and never shows a token or the client secret", async () => {
    const team = await createTeam("pro");
    const vault = team.team.id;
    const ns = randomBytes(8).toString("hex");
    const p = provider(ns);
    const clientSecret = `cs-e2e-canary-${randomBytes(16).toString("hex")}`;
    await p.configure({ clientSecret, codeTtl: 120, refreshTtl: 3600 });

    const started = await request("POST", `/v1/vaults/${vault}/credentials/E2E_OAUTH/oauth/connect`, {
      key: team.key,
      body: { authorization_url: p.authorize, token_url: p.token, client_id: "client-1", client_secret: clientSecret, scopes: "read" },
    });
    expect(started.status).toBe(200);
    expect(new URL(started.json.authorizationUrl).searchParams.get("redirect_uri")).toBe(`${baseUrl()}/oauth/callback`);
    // The browser: consent at the provider, back to the vault's callback, on to the completion page.
    const consent = await fetch(started.json.authorizationUrl, { redirect: "manual" });
    expect(consent.status).toBe(302);
    const callback = await fetch(consent.headers.get("location")!, { redirect: "manual" });
    expect(callback.status).toBe(303);
    const complete = await fetch(callback.headers.get("location")!);
    const html = await complete.text();
    expect(complete.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(html).toContain("Connected");

    const status = await request("GET", `/v1/vaults/${vault}/credentials/E2E_OAUTH/oauth/status`, { key: team.key });
    expect(status.json).toMatchObject({ connected: true, needsReconnect: false });
    const list = await request("GET", `/v1/vaults/${vault}/credentials`, { key: team.key });
    const tokId = list.json.credentials.find((c: { key: string }) => c.key === "E2E_OAUTH").id as string;

    // A task by tok_ reference: the token is within 5 minutes of expiry, so it is refreshed first.
    const task = await request("POST", "/v1/tasks", { key: team.key, body: { targetUrl: p.api, method: "GET", headers: { Authorization: `Bearer ${tokId}` } } });
    expect(task.status).toBe(201);
    const done = await waitForTask(team.key, task.json.task.id);
    expect([done.status, done.result.statusCode]).toEqual(["completed", 200]);
    expect((await p.stats()).refreshCalls).toBe(1);

    // Paste validation: a refused refresh token stores nothing.
    const bogus = `rt-e2e-canary-${randomBytes(16).toString("hex")}`;
    const refused = await request("POST", `/v1/vaults/${vault}/credentials/E2E_PASTED/oauth/tokens`, { key: team.key, body: { refresh_token: bogus, token_url: p.token, client_id: "client-1" } });
    expect([refused.status, refused.json.code]).toEqual([400, "oauth_token_rejected"]);

    const audit = await request("GET", "/v1/audit?limit=100", { key: team.key });
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(["credential.oauth.connected", "credential.oauth.refreshed"]));
    for (const secret of [...(await p.stats()).issued, clientSecret, bogus]) {
      expect(responseHits(secret), secret).toEqual([]);
      expect(logLinesWith(secret), secret).toEqual([]);
      expect(html).not.toContain(secret);
    }
  });

  it("shows a provider's refusal (access_denied) on the completion page, never a 500", async () => {
    const team = await createTeam("pro");
    const ns = randomBytes(8).toString("hex");
    const p = provider(ns);
    await p.configure({ deny: true });
    const started = await request("POST", `/v1/vaults/${team.team.id}/credentials/DENIED/oauth/connect`, { key: team.key, body: { authorization_url: p.authorize, token_url: p.token, client_id: "client-1" } });
    const consent = await fetch(started.json.authorizationUrl, { redirect: "manual" });
    const callback = await fetch(consent.headers.get("location")!, { redirect: "manual" });
    expect(callback.status).toBe(303);
    const page = await fetch(callback.headers.get("location")!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("access_denied");
    expect(html).toContain("&lt;access&gt;");
    expect((await request("GET", `/v1/vaults/${team.team.id}/credentials/DENIED/oauth/status`, { key: team.key })).status).toBe(404);
  });
});
