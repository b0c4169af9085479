/**
 * The portal in real Chromium against the local server (the e2e global setup starts it as the
 * README says): sign up, sign in and back, the vault (add, list, assign, rotate, delete), API keys
 * (create with copy, revoke), audit, tasks, leases, the team switcher, a hostile name, a forged
 * cross-site form, and at 375 px. After every step: no stored value in the page's HTML, axe-core
 * finds no serious or critical violation, and a screenshot goes to test-results/portal/.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { address, PASSWORD, portalSession } from "./browser";
import { baseUrl, canary, request } from "./helpers";

const XSS = "<img src=x onerror=alert(1)>";

const session = portalSession("portal");
const { stored, dialogs, consoleErrors, check, path } = session;
let page: Page;
beforeAll(() => {
  page = session.page;
});

async function signIn(email: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForLoadState("load");
}

describe("the portal in Chromium", () => {
  const owner = { email: `owner-${randomUUID()}@example.com`, teamId: "" };
  const other = { email: `other-${randomUUID()}@example.com` };
  let apiKey = "";

  beforeAll(async () => {
    const signup = await request("POST", "/auth/signup", { body: { email: owner.email, password: PASSWORD, teamName: "Acme production" }, headers: address() });
    expect(signup.status).toBe(201);
    owner.teamId = signup.json.team.id;
    // Pro: more than one API key.
    expect((await request("PATCH", `/admin/teams/${owner.teamId}`, { admin: true, body: { plan: "pro" } })).status).toBe(200);
  });

  it("sends a visitor to sign in, signs up a new account, signs out", async () => {
    await page.goto(`${baseUrl()}/portal/vault`);
    expect(path()).toBe("/portal/login?next=%2Fportal%2Fvault");
    await check("sign-in");
    await page.getByRole("link", { name: "Create one" }).click();
    await check("sign-up");
    await page.getByLabel("Email").fill(other.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Team name").fill("Side project");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe("/portal/vault");
    expect(await page.getByText("No credentials yet").count()).toBe(1);
    await check("vault-empty");
    // The new account adds the owner to its team: the owner will have two teams to switch between.
    const login = await request("POST", "/auth/login", { body: { email: other.email, password: PASSWORD }, headers: address() });
    const teams = await request("GET", "/teams", { headers: { authorization: `Bearer ${login.json.token}` } });
    const added = await request("POST", `/teams/${teams.json.teams[0].id}/members`, { headers: { authorization: `Bearer ${login.json.token}` }, body: { email: owner.email, role: "admin" } });
    expect(added.status).toBe(201);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe("/portal/login?done=signed-out");
    expect(await page.getByText("You are signed out.").count()).toBe(1);
  });

  it("signs in and comes back to the page asked for", async () => {
    await page.goto(`${baseUrl()}/portal/keys`);
    expect(path()).toBe("/portal/login?next=%2Fportal%2Fkeys");
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill("a-wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByRole("alert").textContent()).toContain("Invalid email or password");
    await check("sign-in-error");
    await signIn(owner.email);
    expect(path()).toBe("/portal/keys");
    await check("keys");
  });

  it("creates an API key with a hostile name: shown once with a copy button, the name rendered as text", async () => {
    await page.getByLabel("Name", { exact: true }).fill(XSS);
    for (const scope of ["secrets:reveal", "tasks:write"]) await page.getByLabel(scope, { exact: true }).check();
    await page.getByLabel("Scope labels (optional)").fill("payments");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.waitForLoadState("load");
    apiKey = ((await page.locator("#new-key").textContent()) ?? "").trim();
    expect(apiKey).toMatch(/^tvk_/);
    expect(await page.getByText("It is shown only once").count()).toBe(1);
    await check("key-created");
    await page.getByRole("button", { name: "Copy key" }).click();
    await expect.poll(() => page.locator("#copy-status").textContent()).toMatch(/Copied|Selected/);
    await page.getByRole("link", { name: /back to API keys/ }).click();
    await page.waitForLoadState("load");
    // The hostile name is text: no image element, no dialog.
    expect(await page.getByText(XSS, { exact: true }).count()).toBe(1);
    expect(await page.locator("main img").count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The key works against the API.
    expect((await request("GET", "/vault/secrets", { key: apiKey })).status).toBe(200);
  });

  const secretName = `stripe_secret_key_${randomUUID().slice(0, 8)}`;

  it("adds a secret and lists it with its date and scope, never its value", async () => {
    const value = `sk_live_${canary()}`;
    stored.push(value);
    await page.goto(`${baseUrl()}/portal/vault`);
    await page.getByRole("link", { name: "Add a secret" }).click();
    await page.waitForLoadState("load");
    await check("secret-form");
    // A bad name first: the error is shown next to the field, and the value is not kept.
    await page.getByLabel("Name").fill("not valid!");
    await page.getByLabel("Value").fill(value);
    await page.getByRole("button", { name: "Save secret" }).click();
    await page.waitForLoadState("load");
    expect(await page.locator("#f-name-error").textContent()).toContain("name must be");
    expect(await page.getByLabel("Value").inputValue()).toBe("");
    await check("secret-form-error");
    await page.getByLabel("Name").fill(secretName);
    await page.getByLabel("Value").fill(value);
    await page.getByLabel("Scope labels (optional)").fill("payments");
    await page.getByRole("button", { name: "Save secret" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe("/portal/vault?done=secret-added");
    const row = page.locator("tr", { hasText: secretName });
    expect(await row.count()).toBe(1);
    const today = new Date().toISOString().slice(0, 10);
    expect(await row.locator('td[data-label="Created"]').textContent()).toContain(today);
    expect(await row.locator('td[data-label="Scope"]').textContent()).toBe("payments");
    expect(await row.locator('td[data-label="Owner"]').textContent()).toBe("App-level");
    await check("vault");
  });

  it("assigns the secret to the key, which then reads it through the API", async () => {
    expect((await request("GET", `/vault/secrets/${secretName}`, { key: apiKey })).status).toBe(404);
    await page.locator("tr", { hasText: secretName }).getByRole("link", { name: `Manage ${secretName}` }).click();
    await page.waitForLoadState("load");
    await check("secret-detail");
    await page.getByLabel(XSS).check();
    await page.getByRole("button", { name: "Save assignments" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText("Assignments saved.").count()).toBe(1);
    expect(await page.getByLabel(XSS).isChecked()).toBe(true);
    await check("secret-assigned");
    const read = await request("GET", `/vault/secrets/${secretName}`, { key: apiKey });
    expect(read.status).toBe(200);
    expect(read.json.value).toBe(stored[0]);
  });

  it("rotates the secret", async () => {
    const next = `sk_live_${canary()}`;
    stored.push(next);
    await page.getByRole("link", { name: "Rotate (new value)" }).click();
    await page.waitForLoadState("load");
    await check("secret-rotate");
    await page.getByLabel("New value").fill(next);
    await page.getByRole("button", { name: "Save new version" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText("New version saved.").count()).toBe(1);
    expect(await page.getByText("v2").count()).toBeGreaterThan(0);
    expect((await request("GET", `/vault/secrets/${secretName}`, { key: apiKey })).json.value).toBe(next);
  });

  it("lists a task and a lease made through the API, and revokes the lease after confirmation", async () => {
    const task = await request("POST", "/v1/tasks", { key: apiKey, body: { targetUrl: `${baseUrl()}/healthz`, method: "GET" } });
    expect(task.status).toBe(201);
    // Rows of the other views for the vault page: a token, and an expired app-level secret.
    const tokenValue = `fal_${canary()}`;
    const expiredValue = `whsec_${canary()}`;
    stored.push(tokenValue, expiredValue);
    expect((await request("POST", "/v1/tokens", { key: apiKey, body: { name: "fal-production", value: tokenValue } })).status).toBe(201);
    const expired = await request("POST", "/vault/secrets", { key: apiKey, body: { name: "legacy_webhook_secret", value: expiredValue, scope: ["payments"], expiresAt: "2026-01-01T00:00:00Z", allowedHosts: ["hooks.example.com"] } });
    expect(expired.status).toBe(201);
    const credentialValue = `ck_${canary()}`;
    stored.push(credentialValue);
    const writer = await request("POST", `/teams/${owner.teamId}/apikeys`, {
      headers: { authorization: `Bearer ${(await request("POST", "/auth/login", { body: { email: owner.email, password: PASSWORD }, headers: address() })).json.token}` },
      body: { name: "lease writer", scopes: ["secrets:read", "secrets:write", "secrets:reveal"] },
    });
    const writerKey = writer.json.key as string;
    expect((await request("POST", "/v1/credentials", { key: writerKey, body: { name: "openai-prod", type: "api-key", value: credentialValue } })).status).toBe(201);
    const lease = await request("POST", "/v1/leases", { key: writerKey, body: { credentialName: "openai-prod", ttl: "15m", identity: { type: "agent", name: "research-bot" } } });
    expect(lease.status).toBe(201);

    await page.getByRole("link", { name: "Tasks" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText(task.json.task.id).count()).toBe(1);
    await check("tasks");

    await page.getByRole("link", { name: "Leases" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText("agent: research-bot").count()).toBe(1);
    await check("leases");
    await page.getByRole("link", { name: `Revoke lease ${lease.json.lease.id}` }).click();
    await page.waitForLoadState("load");
    await check("lease-revoke");
    await page.getByRole("button", { name: "Revoke lease" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText("Lease revoked.").count()).toBe(1);
    expect(await page.getByText("No active leases.").count()).toBe(1);
    const leases = await request("GET", "/v1/leases?active=true", { key: writerKey });
    expect(leases.json.leases).toEqual([]);
  });

  it("deletes the secret after an explicit confirmation", async () => {
    await page.goto(`${baseUrl()}/portal/vault`);
    await page.getByRole("link", { name: `Manage ${secretName}` }).click();
    await page.waitForLoadState("load");
    await page.getByRole("link", { name: "Delete…" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByRole("alert").textContent()).toContain("cannot be undone");
    await check("secret-delete");
    // Cancel first: nothing is deleted.
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.waitForLoadState("load");
    expect((await request("GET", `/vault/secrets/${secretName}`, { key: apiKey })).status).toBe(200);
    await page.getByRole("link", { name: "Delete…" }).click();
    await page.getByRole("button", { name: `Delete ${secretName} for good` }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe("/portal/vault?done=deleted");
    expect(await page.locator("tr", { hasText: secretName }).count()).toBe(0);
    expect((await request("GET", `/vault/secrets/${secretName}`, { key: apiKey })).status).toBe(404);
    // Every view's rows in one list; the expired one is marked.
    for (const name of ["openai-prod", "fal-production", "legacy_webhook_secret"]) expect(await page.locator("tr", { hasText: name }).count(), name).toBe(1);
    expect(await page.locator("tr", { hasText: "legacy_webhook_secret" }).getByText("Expired").count()).toBe(1);
    await check("vault-after-delete");
  });

  it("shows the audit trail, filtered by action and by target", async () => {
    await page.getByRole("link", { name: "Audit" }).click();
    await page.waitForLoadState("load");
    await page.getByLabel("Action").selectOption("vault.secret.deleted");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForLoadState("load");
    expect(path()).toContain("action=vault.secret.deleted");
    const rows = page.locator("tbody tr");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(secretName);
    await check("audit");
    await rows.first().locator('td[data-label="Target"] a').click();
    await page.waitForLoadState("load");
    expect(await page.locator("tbody tr").count()).toBeGreaterThanOrEqual(5);
  });

  it("refuses a forged form posted from another site", async () => {
    const forged = `forged_${randomUUID().slice(0, 8)}`;
    const value = `sk_${canary()}`;
    stored.push(value);
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><html lang="en"><title>Win a prize</title><body>
<form id="f" method="post" action="${baseUrl()}/portal/vault/new">
<input name="name" value="${forged}"><input name="value" value="${value}"><input name="owner" value="app"></form>
<script>document.getElementById("f").submit()</script></body></html>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, "127.0.0.1", resolve));
    try {
      const port = (attacker.address() as { port: number }).port;
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForURL(`${baseUrl()}/portal/vault/new`);
      await page.waitForLoadState("load");
      expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Form refused");
      await check("csrf-refused");
    } finally {
      attacker.close();
    }
    await page.goto(`${baseUrl()}/portal/vault`);
    expect(await page.getByText(forged).count()).toBe(0);
    const audit = await request("GET", `/v1/audit?action=vault.secret.created`, { key: apiKey });
    expect(JSON.stringify(audit.json)).not.toContain(forged);
  });

  it("switches teams with the switcher", async () => {
    await page.getByLabel("Team").selectOption({ label: "Side project (admin)" });
    // The external script submits on change.
    await page.waitForURL(`${baseUrl()}/portal/vault?done=team-switched`);
    expect(await page.getByText("No credentials yet").count()).toBe(1);
    await check("team-switched");
    await page.goto(`${baseUrl()}/portal/vault`);
    await page.getByLabel("Team").selectOption({ label: "Acme production (owner)" });
    await page.waitForURL(`${baseUrl()}/portal/vault?done=team-switched`);
    expect(await page.getByText("openai-prod").count()).toBeGreaterThan(0);
  });

  it("revokes the API key after confirmation", async () => {
    await page.getByRole("link", { name: "API keys" }).click();
    await page.waitForLoadState("load");
    await page.getByRole("link", { name: `Revoke ${XSS}` }).click();
    await page.waitForLoadState("load");
    await check("key-revoke");
    await page.getByRole("button", { name: `Revoke ${XSS}` }).click();
    await page.waitForLoadState("load");
    expect(await page.getByText("API key revoked.").count()).toBe(1);
    expect(await page.locator("tr", { hasText: XSS }).getByText("Revoked").count()).toBe(1);
    expect((await request("GET", "/vault/secrets", { key: apiKey })).status).toBe(401);
    expect(dialogs).toEqual([]);
  });

  it("fits 375 px without horizontal scrolling and shows keyboard focus", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const [url, step] of [["/portal/vault", "vault-375"], ["/portal/keys", "keys-375"], ["/portal/audit", "audit-375"]] as const) {
      await page.goto(baseUrl() + url);
      await check(step);
      expect(await page.evaluate<number>("document.documentElement.scrollWidth"), step).toBeLessThanOrEqual(375);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${baseUrl()}/portal/vault`);
    await page.keyboard.press("Tab");
    const focus = await page.evaluate<{ text: string; outline: string; width: string }>(`(() => {
      const style = getComputedStyle(document.activeElement);
      return { text: document.activeElement.textContent, outline: style.outlineStyle, width: style.outlineWidth };
    })()`);
    expect(focus.text).toBe("Skip to content");
    expect(focus.outline).not.toBe("none");
    expect(focus.width).not.toBe("0px");
    // No page broke its own CSP or script along the way (error statuses of refused forms are expected).
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to|Uncaught|TypeError/i.test(e))).toEqual([]);
  });

  it("measures /portal/vault: page weight and time to first byte through the local server (reported, not asserted)", async () => {
    await page.goto(`${baseUrl()}/portal/vault`);
    const weight = await page.evaluate<{ html: number; resources: { name: string; bytes: number }[] }>(`(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return {
        html: nav.decodedBodySize,
        resources: performance.getEntriesByType("resource").map((r) => ({ name: new URL(r.name).pathname, bytes: r.decodedBodySize })),
      };
    })()`);
    const cookie = (await page.context().cookies(baseUrl())).map((c) => `${c.name}=${c.value}`).join("; ");
    const ttfb: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const res = await fetch(`${baseUrl()}/portal/vault`, { headers: { cookie } });
      ttfb.push(performance.now() - started);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    ttfb.sort((a, b) => a - b);
    const total = weight.html + weight.resources.reduce((sum, r) => sum + r.bytes, 0);
    const metrics = { page: "/portal/vault", htmlBytes: weight.html, resources: weight.resources, totalBytes: total, ttfbMs: { median: ttfb[10], p90: ttfb[18], min: ttfb[0] } };
    writeFileSync(join(session.shots, "metrics.json"), JSON.stringify(metrics, null, 2));
    console.log(`[portal metrics] ${JSON.stringify(metrics)}`);
    // The page loads exactly its two hashed assets.
    const names = weight.resources.map((r) => r.name);
    expect(names).toHaveLength(2);
    expect(names).toEqual(expect.arrayContaining([expect.stringMatching(/^\/portal\/assets\/portal\.[0-9a-f]{16}\.css$/), expect.stringMatching(/^\/portal\/assets\/portal\.[0-9a-f]{16}\.js$/)]));
  });
});
