import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PASSWORD, asUser, signupUser } from "./helpers/accounts";
import { PortalClient } from "./helpers/portal";

/** The portal's gateway pages through the Worker's fetch handler: vault KEYs, agent tokens, services, settings, the request log. */
async function signedIn() {
  const user = await signupUser("portal-gw");
  const browser = new PortalClient();
  const res = await browser.submit("/portal/login", "/portal/login", { email: user.email, password: PASSWORD, next: "/portal/vault" });
  expect(res.status).toBe(303);
  return { user, browser };
}

const canaryValue = () => `sk-portal-gw-canary-${crypto.randomUUID()}`;

describe("portal: vault KEYs", () => {
  it("sets several KEYs at once, rotates one (a new version), deletes one only after confirmation; values never rendered", async () => {
    const { user, browser } = await signedIn();
    const [a, b, c] = [canaryValue(), canaryValue(), canaryValue()];
    const set = await browser.submit("/portal/vault/keys", "/portal/vault/keys", { key0: "STRIPE_KEY", value0: a, key1: "GITHUB_TOKEN", value1: b });
    expect(set.status).toBe(303);
    expect(set.location).toBe("/portal/vault/keys?done=keys-set");
    const list = await browser.get("/portal/vault/keys");
    expect(list.text).toContain("STRIPE_KEY");
    expect(list.text).toContain("GITHUB_TOKEN");
    // The unified inventory lists them too.
    expect((await browser.get("/portal/vault")).text).toContain("GITHUB_TOKEN");

    const rotated = await browser.submit("/portal/vault/keys/STRIPE_KEY/rotate", "/portal/vault/keys/STRIPE_KEY/rotate", { value: c });
    expect(rotated.status).toBe(303);
    const revealed = await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/credentials/STRIPE_KEY`);
    expect(revealed.json.credential.value).toBe(c);
    const version = await env.DB.prepare("SELECT current_version FROM tokens WHERE team_id = ? AND name = 'STRIPE_KEY' AND kind = 'vault_key'").bind(user.team.id).first<{ current_version: number }>();
    expect(version?.current_version).toBe(2);

    // A post without the confirmation field deletes nothing.
    const unconfirmed = await browser.submit("/portal/vault/keys/GITHUB_TOKEN/delete", "/portal/vault/keys/GITHUB_TOKEN/delete", {});
    expect(unconfirmed.location).toBe("/portal/vault/keys/GITHUB_TOKEN/delete");
    expect((await browser.get("/portal/vault/keys")).text).toContain("GITHUB_TOKEN");
    const deleted = await browser.submit("/portal/vault/keys/GITHUB_TOKEN/delete", "/portal/vault/keys/GITHUB_TOKEN/delete", { confirm: "GITHUB_TOKEN" });
    expect(deleted.location).toBe("/portal/vault/keys?done=deleted");
    expect((await browser.get("/portal/vault/keys")).text).not.toContain("GITHUB_TOKEN");

    for (const page of browser.pages) for (const value of [a, b, c]) expect(page.includes(value)).toBe(false);
  });

  it("shows a bad KEY next to its field and saves nothing", async () => {
    const { user, browser } = await signedIn();
    const value = canaryValue();
    const res = await browser.submit("/portal/vault/keys", "/portal/vault/keys", { key0: "GOOD_KEY", value0: value, key1: "not-upper", value1: value });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="f-key1-error">KEYs are UPPER_SNAKE_CASE/);
    expect(res.text).not.toContain(value);
    const listed = await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/credentials`);
    expect(listed.json.credentials).toEqual([]);
  });
});

describe("portal: API keys, agent role and agent tokens", () => {
  it("creates an agent key with the agent scopes and mints an agent token that expires", async () => {
    const { user, browser } = await signedIn();
    // Pro: room for two keys.
    await env.DB.prepare("UPDATE teams SET plan = 'pro' WHERE id = ?").bind(user.team.id).run();
    const created = await browser.submit("/portal/keys", "/portal/keys", { name: "bot", role: "agent", scopes: ["secrets:reveal", "tasks:write"] });
    expect(created.status).toBe(201);
    expect(created.text).toContain("role agent, scopes: proxy:use vault:read proposals:write");
    const minted = await browser.submit("/portal/keys", "/portal/keys/agent-token", { agentName: "ci job", ttl: "5m" });
    expect(minted.status).toBe(201);
    expect(minted.text).toMatch(/id="new-key">tvk_/);
    const keys = await asUser(user.token, "GET", `/teams/${user.team.id}/apikeys`);
    const token = keys.json.apiKeys.find((k: { name: string }) => k.name === "ci job");
    expect(token.role).toBe("agent");
    const lifetime = Date.parse(token.expiresAt) - Date.parse(token.createdAt);
    expect(lifetime).toBeGreaterThan(4 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(5 * 60_000 + 1000);
    const bad = await browser.submit("/portal/keys", "/portal/keys/agent-token", { agentName: "x", ttl: "30d" });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="f-ttl-error"/);
  });
});

describe("portal: services and vault settings", () => {
  it("adds, edits, disables and deletes a service through the domain functions; errors go next to the field", async () => {
    const { user, browser } = await signedIn();
    await browser.submit("/portal/vault/keys", "/portal/vault/keys", { key0: "STRIPE_KEY", value0: canaryValue() });
    const badHost = await browser.submit("/portal/services/new", "/portal/services/new", { name: "stripe", host: "http://x", authType: "bearer", token: "STRIPE_KEY", enabled: "true" });
    expect(badHost.status).toBe(400);
    expect(badHost.text).toMatch(/id="f-host-error"/);
    const noKey = await browser.submit("/portal/services/new", "/portal/services/new", { name: "stripe", host: "api.stripe.com", authType: "bearer", token: "", enabled: "true" });
    expect(noKey.text).toMatch(/id="f-token-error">Choose a KEY of the vault/);
    const missing = await browser.submit("/portal/services/new", "/portal/services/new", { name: "stripe", host: "api.stripe.com", authType: "basic", username: "STRIPE_KEY", password: "NOPE_KEY", enabled: "true" });
    expect(missing.status).toBe(400);
    expect(missing.text).toMatch(/id="f-password-error">No credential named NOPE_KEY/);

    const ok = await browser.submit("/portal/services/new", "/portal/services/new", { name: "stripe", host: "api.stripe.com", authType: "api-key", apiKey: "STRIPE_KEY", header: "X-Api-Key", prefix: "Key ", enabled: "true" });
    expect(ok.location).toBe("/portal/services?done=service-saved");
    let services = await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/services`);
    expect(services.json.services[0]).toMatchObject({ name: "stripe", host: "api.stripe.com", enabled: true, auth: { type: "api-key", key: "STRIPE_KEY", header: "X-Api-Key", prefix: "Key " } });

    const edit = await browser.get("/portal/services/edit?name=stripe");
    expect(edit.text).toContain('<option value="STRIPE_KEY" selected>');
    await browser.submit("/portal/services/edit?name=stripe", "/portal/services/edit?name=stripe", { name: "stripe", host: "*.stripe.com", authType: "custom", headers: "Authorization: Bearer {{ STRIPE_KEY }}", enabled: "true" });
    await browser.submit("/portal/services", "/portal/services/toggle", { name: "stripe", enabled: "false" });
    services = await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/services`);
    expect(services.json.services[0]).toMatchObject({ host: "*.stripe.com", enabled: false, auth: { type: "custom", headers: { Authorization: "Bearer {{ STRIPE_KEY }}" } } });

    expect((await browser.submit("/portal/services", "/portal/services/delete", { name: "stripe" })).location).toBe("/portal/services/delete?name=stripe");
    expect((await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/services`)).json.services).toHaveLength(1);
    expect((await browser.submit("/portal/services/delete?name=stripe", "/portal/services/delete", { name: "stripe", confirm: "stripe" })).location).toBe("/portal/services?done=service-deleted");
    expect((await asUser(user.token, "GET", `/v1/vaults/${user.team.id}/services`)).json.services).toEqual([]);
  });

  it("changes the slug and the unmatched-request policy; a taken slug is shown next to its field", async () => {
    const { user, browser } = await signedIn();
    const other = await signupUser("portal-gw-other");
    const otherSlug = (await asUser(other.token, "GET", `/v1/vaults/${other.team.id}`)).json.vault.slug as string;
    const taken = await browser.submit("/portal/services", "/portal/services/settings", { slug: otherSlug, unmatchedPolicy: "deny" });
    expect(taken.status).toBe(409);
    expect(taken.text).toMatch(/id="f-slug-error"/);
    const slug = `acme-${crypto.randomUUID().slice(0, 8)}`;
    const saved = await browser.submit("/portal/services", "/portal/services/settings", { slug, unmatchedPolicy: "passthrough" });
    expect(saved.location).toBe("/portal/services?done=settings-saved");
    const vault = await asUser(user.token, "GET", `/v1/vaults/${slug}`);
    expect(vault.json.vault).toMatchObject({ slug, unmatchedPolicy: "passthrough" });
  });
});

describe("portal: request log", () => {
  it("lists the proxy's entries newest first, filtered by service, paginated", async () => {
    const { user, browser } = await signedIn();
    const base = Date.parse("2026-11-01T00:00:00Z");
    const rows = Array.from({ length: 55 }, (_, i) =>
      env.DB.prepare("INSERT INTO proxy_log (id, team_id, method, host, path, service, credential_keys, status, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(
        `plog_${String(i).padStart(4, "0")}_${crypto.randomUUID().slice(0, 8)}`,
        user.team.id,
        i % 2 ? "POST" : "GET",
        "api.stripe.com",
        `/v1/charges/${i}`,
        i === 54 ? null : "stripe",
        i === 54 ? "[]" : '["STRIPE_KEY"]',
        i === 54 ? 403 : 200,
        10 + i,
        new Date(base + i * 1000).toISOString(),
      ),
    );
    await env.DB.batch(rows);
    const first = await browser.get("/portal/logs");
    expect(first.status).toBe(200);
    expect(first.text.match(/data-log-id=/g)).toHaveLength(50);
    expect(first.text.indexOf("/v1/charges/54")).toBeLessThan(first.text.indexOf("/v1/charges/53"));
    expect(first.text).toContain("STRIPE_KEY");
    expect(first.text).toContain("64 ms");
    const older = /href="(\/portal\/logs\?[^"]*cursor=[^"]+)"/.exec(first.text)?.[1]?.replaceAll("&amp;", "&");
    expect(older).toBeDefined();
    const second = await browser.get(older!);
    expect(second.text.match(/data-log-id=/g)).toHaveLength(5);
    const filtered = await browser.get("/portal/logs?service=stripe&status=403");
    expect(filtered.text).toContain("No requests logged for this filter");
  });
});

describe("portal: OAuth", () => {
  it("starts the connect flow through the domain function: a link to the provider with PKCE, the secret never rendered", async () => {
    const { browser } = await signedIn();
    const secret = canaryValue();
    const bad = await browser.submit("/portal/vault/oauth", "/portal/vault/oauth/connect", { key: "github", authorization_url: "https://github.com/login/oauth/authorize", token_url: "not a url", client_id: "abc", client_secret: secret });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="f-key-error"/);
    expect(bad.text).toMatch(/id="f-token_url-error"/);
    const res = await browser.submit("/portal/vault/oauth", "/portal/vault/oauth/connect", {
      key: "GITHUB",
      authorization_url: "https://github.com/login/oauth/authorize",
      token_url: "https://github.com/login/oauth/access_token",
      client_id: "abc",
      client_secret: secret,
      scopes: "repo",
      token_auth_method: "client_secret_post",
    });
    expect(res.status).toBe(200);
    const link = /id="oauth-continue" data-follow href="([^"]+)"/.exec(res.text)?.[1]?.replaceAll("&amp;", "&");
    const url = new URL(link!);
    expect(url.origin + url.pathname).toBe("https://github.com/login/oauth/authorize");
    expect(url.searchParams.get("redirect_uri")).toBe("https://vault.test/oauth/callback");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("state")).toBeTruthy();
    for (const page of browser.pages) expect(page.includes(secret)).toBe(false);
  });

  it("renders the completion page in the portal's look, escaped, with no script", async () => {
    const browser = new PortalClient();
    const page = await browser.get("/oauth/complete?status=error&error=%3Cscript%3E&key=GITHUB");
    expect(page.status).toBe(200);
    expect(page.text).toContain('<link rel="stylesheet" href="/portal/assets/portal.');
    expect(page.text).not.toContain("<script");
    expect(page.text).toContain("&lt;script&gt;");
    expect(page.headers.get("content-security-policy")).not.toContain("script-src");
  });
});
