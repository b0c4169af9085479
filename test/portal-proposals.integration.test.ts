import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { createKey, PASSWORD, signupUser } from "./helpers/accounts";
import { PortalClient } from "./helpers/portal";

/** The portal's proposal pages through the Worker's fetch handler: sign-in redirect, other teams, escaping, Allow with CSRF, canary. */
const canaryValue = () => `sk-portal-proposal-${crypto.randomUUID()}`;

async function reviewer(label: string) {
  const user = await signupUser(label);
  const browser = new PortalClient();
  const res = await browser.submit("/portal/login", "/portal/login", { email: user.email, password: PASSWORD, next: "/portal/vault" });
  expect(res.status).toBe(303);
  const agent = await createKey(user.token, user.team.id, { name: "agent", role: "agent" });
  return { user, browser, agentKey: agent.json.key as string };
}

describe("portal: proposals", () => {
  it("sends a visitor to sign in and back to the approval page", async () => {
    const { agentKey } = await reviewer("pp-visitor");
    const id = (await call("POST", "/v1/proposals", { key: agentKey, body: { credentials: [{ action: "set", key: "A_KEY" }] } })).json.proposal.id;
    const res = await new PortalClient().get(`/portal/proposals/${id}`);
    expect([res.status, res.location]).toEqual([303, `/portal/login?next=${encodeURIComponent(`/portal/proposals/${id}`)}`]);
  });

  it("renders hostile text as text, never a javascript: link, and another team's proposal is not found", async () => {
    const { browser, agentKey } = await reviewer("pp-escape");
    const xss = "<script>alert(1)</script>";
    const created = await call("POST", "/v1/proposals", { key: agentKey, body: { message: xss, credentials: [{ action: "set", key: "A_KEY", description: xss, obtain_instructions: xss, obtain: "https://example.com/?q=<x>" }] } });
    const id = created.json.proposal.id;
    const page = await browser.get(`/portal/proposals/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(xss);
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page.text).not.toMatch(/href="javascript:/i);
    expect(page.text).toContain('type="password"');
    const stranger = await reviewer("pp-stranger");
    expect((await stranger.browser.get(`/portal/proposals/${id}`)).status).toBe(404);
    expect((await stranger.browser.get("/portal/proposals/prop_not-an-id")).status).toBe(404);
    // Stored before validation existed or written by hand: the page still renders only http(s) links.
    await env.DB.prepare("UPDATE proposals SET slots = ? WHERE id = ?").bind(JSON.stringify([{ action: "set", key: "A_KEY", type: "static", obtain: "javascript:alert(1)" }]), id).run();
    const forged = await browser.get(`/portal/proposals/${id}`);
    expect(forged.text).not.toMatch(/href="javascript:/i);
  });

  it("Allow posts the values with CSRF; a value never comes back in any page", async () => {
    const { user, browser, agentKey } = await reviewer("pp-allow");
    const value = canaryValue();
    const agentValue = canaryValue();
    const id = (
      await call("POST", "/v1/proposals", {
        key: agentKey,
        body: {
          services: [{ name: "svc", host: "api.example.com", auth: { type: "basic", username: "A_USER", password: "A_PASS" } }],
          credentials: [{ action: "set", key: "A_USER", value: agentValue }, { action: "set", key: "A_PASS" }],
        },
      })
    ).json.proposal.id;
    const page = await browser.get(`/portal/proposals/${id}`);
    expect(page.text).toContain(`(${agentValue.length} characters)`);
    // Without the CSRF token: refused, nothing applied.
    expect((await browser.post(`/portal/proposals/${id}/approve`, { value_A_PASS: value })).status).toBe(403);
    const missing = await browser.submit(`/portal/proposals/${id}`, `/portal/proposals/${id}/approve`, {});
    expect(missing.status).toBe(400);
    expect(missing.text).toContain("Enter a value");
    const allowed = await browser.submit(`/portal/proposals/${id}`, `/portal/proposals/${id}/approve`, { value_A_PASS: value });
    expect([allowed.status, allowed.location]).toEqual([303, `/portal/proposals/${id}?done=approved`]);
    const after = await browser.get(`/portal/proposals/${id}?done=approved`);
    expect(after.text).toContain("Proposal allowed");
    const list = await browser.get("/portal/proposals");
    expect(list.text).toContain(id);
    for (const html of browser.pages) {
      expect(html).not.toContain(value);
      expect(html).not.toContain(agentValue);
    }
    const keys = await call("GET", `/v1/vaults/${user.team.id}/credentials?reveal=true`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(keys.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value])).toEqual([["A_PASS", value], ["A_USER", agentValue]]);
  });

  it("an OAuth slot needs no value to allow, then offers Connect (a link to the provider) and token paste", async () => {
    const { user, browser, agentKey } = await reviewer("pp-oauth");
    const id = (
      await call("POST", "/v1/proposals", {
        key: agentKey,
        body: {
          services: [{ name: "gh", host: "api.github.com", auth: { type: "bearer", token: "GITHUB" } }],
          credentials: [{ action: "set", key: "GITHUB", type: "oauth", description: "GitHub OAuth", oauth: { authorization_url: "https://github.com/login/oauth/authorize", token_url: "https://github.com/login/oauth/access_token", scopes: "repo user" } }],
        },
      })
    ).json.proposal.id;
    const pending = await browser.get(`/portal/proposals/${id}`);
    expect(pending.text).toContain("no value is needed to allow");
    expect(pending.text).not.toContain("Connect GITHUB");
    const allowed = await browser.submit(`/portal/proposals/${id}`, `/portal/proposals/${id}/approve`, {});
    expect([allowed.status, allowed.location]).toEqual([303, `/portal/proposals/${id}?done=approved`]);
    const page = await browser.get(`/portal/proposals/${id}`);
    expect(page.text).toContain("Connect GITHUB");
    expect(page.text).toContain("Not connected");
    const connect = await browser.submit(`/portal/proposals/${id}`, `/portal/proposals/${id}/oauth/GITHUB/connect`, { "GITHUB-client_id": "client-1", "GITHUB-client_secret": "client-secret-canary" });
    expect(connect.status).toBe(200);
    const link = /id="continue-oauth" href="([^"]+)"/.exec(connect.text)?.[1]?.replace(/&amp;/g, "&");
    const authorize = new URL(link!);
    expect(authorize.origin + authorize.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(authorize.searchParams.get("client_id")).toBe("client-1");
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(connect.text).not.toContain("client-secret-canary");
    const token = canaryValue();
    const pasted = await browser.submit(`/portal/proposals/${id}`, `/portal/proposals/${id}/oauth/GITHUB/tokens`, { "GITHUB-access_token": token });
    expect([pasted.status, pasted.location]).toEqual([303, `/portal/proposals/${id}?done=connected`]);
    const after = await browser.get(`/portal/proposals/${id}?done=connected`);
    expect(after.text).toContain("Connected");
    for (const html of browser.pages) expect(html).not.toContain(token);
    const status = await call("GET", `/v1/vaults/${user.team.id}/credentials/GITHUB/oauth/status`, { headers: { authorization: `Bearer ${user.token}` } });
    expect(status.json.connected).toBe(true);
  });
});
