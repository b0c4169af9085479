/**
 * The portal's gateway pages in real Chromium against the local server: vault KEYs (set several,
 * rotate, delete with confirmation), the agent role and agent tokens, services (auth form with
 * KEY pickers, field errors, edit, disable, delete), the vault settings and the request log, at
 * desktop size and 375 px. After every step: no stored value in the page's HTML, axe-core finds
 * no serious or critical violation, and a screenshot goes to test-results/portal-gateway/.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { address, PASSWORD, portalSession } from "./browser";
import { baseUrl, canary, request, upstreamUrl } from "./helpers";

const session = portalSession("portal-gateway");
const { stored, consoleErrors, check, path } = session;
let page: Page;
beforeAll(() => {
  page = session.page;
});

async function click(name: string | RegExp, role: "button" | "link" = "button") {
  await page.getByRole(role, { name }).click();
  await page.waitForLoadState("load");
}

describe("the portal's gateway pages in Chromium", () => {
  const owner = { email: `gw-owner-${randomUUID()}@example.com`, teamId: "", token: "" };
  /** The agent token minted in the portal: it calls the proxy for the request log. */
  let agentToken = "";
  const api = (method: string, url: string, body?: unknown) => request(method, url, { headers: { authorization: `Bearer ${owner.token}` }, body });

  beforeAll(async () => {
    const signup = await request("POST", "/auth/signup", { body: { email: owner.email, password: PASSWORD, teamName: "Gateway team" }, headers: address() });
    expect(signup.status).toBe(201);
    owner.teamId = signup.json.team.id;
    owner.token = signup.json.token;
    expect((await request("PATCH", `/admin/teams/${owner.teamId}`, { admin: true, body: { plan: "pro" } })).status).toBe(200);
  });

  it("signs in and sets two vault KEYs at once; the values are never rendered", async () => {
    await page.goto(`${baseUrl()}/portal/login?next=%2Fportal%2Fvault`);
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await click("Sign in");
    expect(path()).toBe("/portal/vault");
    await click("Vault KEYs", "link");
    expect(path()).toBe("/portal/vault/keys");
    await check("keys-empty");
    const [stripe, github] = [`sk_test_${canary()}`, `ghp_${canary()}`];
    stored.push(stripe, github);
    // A bad KEY first: the error is next to its field, nothing is saved, no value comes back.
    await page.getByLabel("KEY 1", { exact: true }).fill("stripe-key");
    await page.getByLabel("Value 1", { exact: true }).fill(stripe);
    await click("Save KEYs");
    expect(await page.locator("#f-key0-error").textContent()).toContain("UPPER_SNAKE_CASE");
    expect(await page.getByLabel("Value 1", { exact: true }).inputValue()).toBe("");
    await check("keys-error");
    await page.getByLabel("KEY 1", { exact: true }).fill("STRIPE_KEY");
    await page.getByLabel("Value 1", { exact: true }).fill(stripe);
    await page.getByLabel("KEY 2", { exact: true }).fill("GITHUB_TOKEN");
    await page.getByLabel("Value 2", { exact: true }).fill(github);
    await click("Save KEYs");
    expect(path()).toBe("/portal/vault/keys?done=keys-set");
    expect(await page.locator("tr[data-key]").count()).toBe(2);
    await check("keys-set");
    const revealed = await api("GET", `/v1/vaults/${owner.teamId}/credentials?reveal=true`);
    expect(revealed.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value])).toEqual([
      ["GITHUB_TOKEN", github],
      ["STRIPE_KEY", stripe],
    ]);
    // They are in the vault's inventory too.
    await page.goto(`${baseUrl()}/portal/vault`);
    expect(await page.locator("tr", { hasText: "STRIPE_KEY" }).getByText("Vault KEY").count()).toBe(1);
    await check("vault-with-keys");
  });

  it("rotates a KEY (a new version) and deletes one after a confirmation", async () => {
    await page.goto(`${baseUrl()}/portal/vault/keys`);
    await click("Rotate STRIPE_KEY", "link");
    await check("key-rotate");
    const next = `sk_test_${canary()}`;
    stored.push(next);
    await page.getByLabel("New value").fill(next);
    await click("Save new version");
    expect(await page.getByText("New version saved.").count()).toBe(1);
    expect((await api("GET", `/v1/vaults/${owner.teamId}/credentials/STRIPE_KEY`)).json.credential.value).toBe(next);

    await click("Delete GITHUB_TOKEN", "link");
    expect(await page.getByRole("alert").textContent()).toContain("cannot be undone");
    await check("key-delete");
    await click("Cancel", "link");
    expect(await page.locator("tr[data-key]").count()).toBe(2);
    await click("Delete GITHUB_TOKEN", "link");
    await click("Delete GITHUB_TOKEN for good");
    expect(path()).toBe("/portal/vault/keys?done=deleted");
    expect(await page.locator('tr[data-key="GITHUB_TOKEN"]').count()).toBe(0);
    expect((await api("GET", `/v1/vaults/${owner.teamId}/credentials/GITHUB_TOKEN`)).status).toBe(404);
    await check("key-deleted");
  });

  it("creates an agent-role key and mints a short-lived agent token", async () => {
    await click("API keys", "link");
    await page.getByLabel("Name", { exact: true }).fill("research agent");
    await page.getByRole("radio", { name: /Agent:/ }).check();
    await click("Create key");
    expect(await page.getByText("role agent, scopes: proxy:use vault:read proposals:write").count()).toBe(1);
    const agentKey = ((await page.locator("#new-key").textContent()) ?? "").trim();
    expect(agentKey).toMatch(/^tvk_/);
    await check("agent-key-created");
    // An agent key can never read a value.
    expect((await request("GET", `/v1/vaults/${owner.teamId}/credentials?reveal=true`, { key: agentKey })).status).toBe(403);
    await click(/back to API keys/, "link");
    expect(await page.locator("tr", { hasText: "research agent" }).locator('td[data-label="Role"]').textContent()).toBe("Agent");

    await page.getByLabel("Agent name").fill("nightly job");
    await page.getByLabel("Lifetime").selectOption("5m");
    await click("Mint agent token");
    const token = ((await page.locator("#new-key").textContent()) ?? "").trim();
    expect(token).toMatch(/^tvk_/);
    agentToken = token;
    expect(await page.getByText("expires by itself").count()).toBe(1);
    await check("agent-token-minted");
    expect((await request("GET", `/v1/vaults/${owner.teamId}/services`, { key: token })).status).toBe(200);
    await click(/back to API keys/, "link");
    const row = page.locator("tr", { hasText: "nightly job" });
    expect(await row.locator('td[data-label="State"]').textContent()).toContain("until");
    await check("keys-with-agents");
  });

  it("adds a service with the auth form and KEY pickers, errors next to their field", async () => {
    await click("Services", "link");
    expect(path()).toBe("/portal/services");
    await check("services-empty");
    await click("Add a service", "link");
    await check("service-form");
    // Only the chosen auth type's fields show (the page's script).
    expect(await page.getByLabel("Token KEY").isVisible()).toBe(true);
    expect(await page.getByLabel("Username KEY").isVisible()).toBe(false);
    await page.getByLabel("Name", { exact: true }).fill("stripe");
    await page.getByLabel("Host pattern").fill("api.stripe.com");
    await click("Save service");
    expect(await page.locator("#f-token-error").textContent()).toContain("Choose a KEY");
    await check("service-form-errors");
    // The domain's own check of the host pattern, next to the field.
    await page.getByLabel("Token KEY").selectOption("STRIPE_KEY");
    await page.getByLabel("Host pattern").fill("https://api.stripe.com");
    await click("Save service");
    expect(await page.locator("#f-host-error").textContent()).toContain("host");
    await check("service-form-host-error");
    await page.getByLabel("Host pattern").fill("api.stripe.com");
    await page.getByLabel("Auth type").selectOption("api-key");
    expect(await page.getByLabel("Token KEY").isVisible()).toBe(false);
    await page.getByLabel("API key KEY").selectOption("STRIPE_KEY");
    await page.getByLabel("Header name").fill("X-Api-Key");
    await click("Save service");
    expect(path()).toBe("/portal/services?done=service-saved");
    const row = page.locator('tr[data-service="stripe"]');
    expect(await row.locator('td[data-label="Host"]').textContent()).toBe("api.stripe.com");
    expect(await row.locator('td[data-label="Auth"]').textContent()).toContain("STRIPE_KEY");
    await check("services");
    const listed = await api("GET", `/v1/vaults/${owner.teamId}/services`);
    expect(listed.json.services).toMatchObject([{ name: "stripe", host: "api.stripe.com", enabled: true, auth: { type: "api-key", key: "STRIPE_KEY", header: "X-Api-Key" } }]);
  });

  it("edits, disables and deletes the service (after confirmation), and changes the vault settings", async () => {
    await click("Edit stripe", "link");
    await check("service-edit");
    await page.getByLabel("Auth type").selectOption("custom");
    await page.getByLabel("Header templates").fill("Authorization: Bearer {{ STRIPE_KEY }}\nStripe-Version: 2024-06-20");
    await click("Save service");
    expect(path()).toBe("/portal/services?done=service-saved");
    await click("Disable stripe");
    expect(await page.getByText("Service disabled.").count()).toBe(1);
    expect(await page.locator('tr[data-service="stripe"]').getByText("Disabled").count()).toBe(1);
    const listed = await api("GET", `/v1/vaults/${owner.teamId}/services`);
    expect(listed.json.services[0]).toMatchObject({ enabled: false, auth: { type: "custom", headers: { Authorization: "Bearer {{ STRIPE_KEY }}", "Stripe-Version": "2024-06-20" } } });

    const slug = `gw-${randomUUID().slice(0, 8)}`;
    await page.getByLabel("Vault slug").fill(slug);
    await page.getByRole("radio", { name: /^Passthrough/ }).check();
    await click("Save settings");
    expect(await page.getByText("Vault settings saved.").count()).toBe(1);
    expect((await api("GET", `/v1/vaults/${slug}`)).json.vault).toMatchObject({ slug, unmatchedPolicy: "passthrough" });
    await check("services-settings");

    await click("Delete stripe", "link");
    await check("service-delete");
    await click("Delete stripe");
    expect(path()).toBe("/portal/services?done=service-deleted");
    expect(await page.getByText("No services yet.").count()).toBe(1);
    expect((await api("GET", `/v1/vaults/${owner.teamId}/services`)).json.services).toEqual([]);
  });

  it("shows the proxy's request log (a call made with the agent token), with its filters, errors next to the field", async () => {
    const host = new URL(upstreamUrl()).host;
    expect((await api("POST", `/v1/vaults/${owner.teamId}/services`, { name: "upstream", host, auth: { type: "bearer", token: "STRIPE_KEY" } })).status).toBe(200);
    const proxied = await fetch(`${baseUrl()}/proxy/${host}/ns/portal-log/ok`, { headers: { "Proxy-Authorization": `Bearer ${agentToken}` } });
    await proxied.arrayBuffer();
    // The proxy writes its log after answering.
    await expect.poll(async () => (await api("GET", `/v1/vaults/${owner.teamId}/logs`)).json.entries.length, { timeout: 15_000 }).toBeGreaterThan(0);
    await click("Request log", "link");
    expect(path()).toBe("/portal/logs");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Request log");
    const row = page.locator("tr[data-log-id]").first();
    expect(await row.locator('td[data-label="Method"]').textContent()).toBe("GET");
    expect(await row.locator('td[data-label="Host"]').textContent()).toBe(host);
    expect(await row.locator('td[data-label="Path"]').textContent()).toBe("/ns/portal-log/ok");
    expect(await row.locator('td[data-label="Service"]').textContent()).toBe("upstream");
    expect(await row.locator('td[data-label="KEYs"]').textContent()).toBe("STRIPE_KEY");
    expect(await row.locator('td[data-label="Duration"]').textContent()).toMatch(/^\d+ ms$/);
    await check("logs");
    await page.getByLabel("Status").fill("abc");
    await click("Filter");
    expect(await page.locator("#f-status-error").count()).toBe(1);
    await check("logs-filter-error");
  });

  it("connects an OAuth credential against the local fake provider, ending on the completion page, then shows it connected", async () => {
    const provider = `portal-${randomUUID().slice(0, 8)}`;
    const clientSecret = `cs_${canary()}`;
    stored.push(clientSecret);
    const configured = await fetch(`${upstreamUrl()}/__oauth/${provider}/config`, { method: "POST", body: JSON.stringify({ clientId: "portal-client", clientSecret }) });
    expect(configured.status).toBe(200);
    await page.goto(`${baseUrl()}/portal/vault`);
    await click("OAuth connections", "link");
    expect(path()).toBe("/portal/vault/oauth");
    await check("oauth-empty");
    // A refused URL first: the domain's error is next to its field.
    await page.getByLabel("KEY", { exact: true }).fill("GITHUB");
    await page.getByLabel("Authorization URL").fill(`${upstreamUrl()}/oauth/${provider}/authorize`);
    await page.getByLabel("Token URL").fill("http://169.254.169.254/token");
    await page.getByLabel("Client id").fill("portal-client");
    await page.getByLabel("Client secret (optional)").fill(clientSecret);
    await click("Connect");
    expect(await page.locator("#f-token_url-error").count()).toBe(1);
    expect(await page.getByLabel("Client secret (optional)").inputValue()).toBe("");
    await check("oauth-connect-error");
    await page.getByLabel("Token URL").fill(`${upstreamUrl()}/oauth/${provider}/token`);
    await page.getByLabel("Client secret (optional)").fill(clientSecret);
    await page.getByLabel("Scopes (optional)").fill("repo user");
    // Connect: the portal sends the browser to the provider, which sends it back to the callback.
    await page.getByRole("button", { name: "Connect" }).click();
    await page.waitForURL((url) => url.pathname === "/oauth/complete", { timeout: 20_000 });
    const issued = ((await (await fetch(`${upstreamUrl()}/__oauth/${provider}/stats`)).json()) as { issued: string[] }).issued;
    expect(issued.length).toBeGreaterThan(0);
    stored.push(...issued);
    expect(new URL(page.url()).searchParams.get("status")).toBe("success");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Connected");
    await check("oauth-complete");
    await click("Back to OAuth connections", "link");
    const row = page.locator('tr[data-oauth-key="GITHUB"]');
    expect(await row.locator('td[data-label="Status"]').textContent()).toBe("Connected");
    await check("oauth-connected");
    const status = await api("GET", `/v1/vaults/${owner.teamId}/credentials/GITHUB/oauth/status`);
    expect(status.json).toMatchObject({ connected: true, needsReconnect: false });
  });

  it("pastes OAuth tokens: a refused refresh token is shown next to its field, an access token is stored", async () => {
    await click("Paste tokens instead", "link");
    await check("oauth-paste");
    const bogus = `rt_${canary()}`;
    const access = `at_${canary()}`;
    stored.push(bogus, access);
    await page.getByLabel("KEY", { exact: true }).fill("SLACK");
    await page.getByLabel("Refresh token (optional)").fill(bogus);
    await page.getByLabel("Token URL (needed with a refresh token)").fill(`${upstreamUrl()}/oauth/paste-${randomUUID().slice(0, 8)}/token`);
    await click("Save tokens");
    expect(await page.locator("#f-refresh_token-error").count()).toBe(1);
    await check("oauth-paste-error");
    await page.getByLabel("Refresh token (optional)").fill("");
    await page.getByLabel("Token URL (needed with a refresh token)").fill("");
    await page.getByLabel("Access token (optional with a refresh token)").fill(access);
    await page.getByLabel("Access token valid for, seconds (optional)").fill("3600");
    await click("Save tokens");
    expect(path()).toBe("/portal/vault/oauth?done=oauth-saved");
    expect(await page.locator('tr[data-oauth-key="SLACK"]').locator('td[data-label="Status"]').textContent()).toBe("Connected");
    await check("oauth-pasted");
  });

  it("fits 375 px without horizontal scrolling on every new page", async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    for (const [url, step] of [
      ["/portal/vault/keys", "keys-375"],
      ["/portal/services", "services-375"],
      ["/portal/services/new", "service-form-375"],
      ["/portal/logs", "logs-375"],
      ["/portal/keys", "api-keys-375"],
      ["/portal/vault/oauth", "oauth-375"],
    ] as const) {
      await page.goto(baseUrl() + url);
      await check(step);
      expect(await page.evaluate<number>("document.documentElement.scrollWidth"), step).toBeLessThanOrEqual(375);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to|Uncaught|TypeError/i.test(e))).toEqual([]);
  });
});
