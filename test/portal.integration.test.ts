import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { PASSWORD, signupUser } from "./helpers/accounts";
import { PortalClient } from "./helpers/portal";

/** The portal through the Worker's real fetch handler: sessions, CSRF, headers, escaping, the vault's actions. */
async function signedIn(origin = "https://vault.test") {
  const user = await signupUser("portal");
  const browser = new PortalClient(origin);
  const res = await browser.submit("/portal/login", "/portal/login", { email: user.email, password: PASSWORD, next: "/portal/vault" });
  expect(res.status).toBe(303);
  expect(res.location).toBe("/portal/vault");
  return { user, browser };
}

const canaryValue = () => `sk-portal-canary-${crypto.randomUUID()}`;

describe("portal: security", () => {
  it("sends the strict headers and no inline script on every page", async () => {
    const browser = new PortalClient();
    const page = await browser.get("/portal/login");
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("cache-control")).toBe("no-store");
    // Scripts only by src, no inline handlers or styles.
    expect(page.text.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    expect(page.text).not.toMatch(/\son[a-z]+=|\sstyle=/);
    const script = /<script src="([^"]+)" integrity="(sha256-[^"]+)"/.exec(page.text);
    expect(script).not.toBeNull();
    const asset = await browser.get(script![1]!);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(asset.text)))));
    expect(`sha256-${digest}`).toBe(script![2]);
  });

  it("sets a __Host- Secure session cookie on https and a plain one on http://localhost", async () => {
    const user = await signupUser("cookie");
    for (const [origin, name, secure] of [["https://vault.test", "__Host-tv_session", true], ["http://localhost:8787", "tv_session", false]] as const) {
      const browser = new PortalClient(origin);
      const res = await browser.submit("/portal/login", "/portal/login", { email: user.email, password: PASSWORD, next: "/portal/vault" });
      const cookie = res.headers.getAll("set-cookie").find((c: string) => c.startsWith(`${name}=`)) ?? "";
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect(cookie).toMatch(/Path=\//);
      expect(/Secure/.test(cookie)).toBe(secure);
      expect((await browser.get("/portal/vault")).status).toBe(200);
    }
  });

  it("sends unauthenticated visitors to sign in and back, only to local portal paths", async () => {
    const browser = new PortalClient();
    const res = await browser.get("/portal/audit?action=apikey.created");
    expect(res.status).toBe(303);
    expect(res.location).toBe("/portal/login?next=%2Fportal%2Faudit%3Faction%3Dapikey.created");
    const user = await signupUser("next");
    const back = await browser.submit(res.location!, "/portal/login", { email: user.email, password: PASSWORD, next: "/portal/audit?action=apikey.created" });
    expect(back.location).toBe("/portal/audit?action=apikey.created");
    for (const next of ["https://evil.example/portal", "//evil.example/portal", "/portal\\..\\x", "/v1/tokens", "/portal/../admin/teams", "javascript:alert(1)"]) {
      const other = new PortalClient();
      const login = await other.submit(`/portal/login?next=${encodeURIComponent(next)}`, "/portal/login", { email: user.email, password: PASSWORD, next });
      expect([next, login.location]).toEqual([next, "/portal/vault"]);
    }
  });

  it("refuses a form post without this browser's CSRF token, from another origin, or with another user's token", async () => {
    const { browser } = await signedIn();
    const value = canaryValue();
    const fields = { name: "forged", value, owner: "user" };
    expect((await browser.post("/portal/vault/new", fields)).status).toBe(403);
    expect((await browser.post("/portal/vault/new", { ...fields, _csrf: "A".repeat(43) })).status).toBe(403);
    const page = await browser.get("/portal/vault/new");
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    expect((await browser.post("/portal/vault/new", { ...fields, _csrf: token }, { origin: "https://evil.example" })).status).toBe(403);
    const { browser: other } = await signedIn();
    const otherToken = /name="_csrf" value="([^"]+)"/.exec((await other.get("/portal/vault/new")).text)![1]!;
    expect((await browser.post("/portal/vault/new", { ...fields, _csrf: otherToken })).status).toBe(403);
    expect((await browser.get("/portal/vault")).text).not.toContain("forged");
    // Control: the same post with its own token is accepted (browsers send `Origin: null` under Referrer-Policy: no-referrer).
    expect((await browser.post("/portal/vault/new", { ...fields, _csrf: token }, { origin: "null" })).status).toBe(303);
    expect((await browser.get("/portal/vault")).text).toContain("forged");
    expect(browser.pages.join("\n")).not.toContain(value);
  });

  it("rate-limits sign-in through the login throttle", async () => {
    const user = await signupUser("throttle");
    const browser = new PortalClient();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await browser.submit("/portal/login", "/portal/login", { email: user.email, password: "wrong-password!", next: "" })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect(browser.pages.at(-1)).toContain("Too many attempts");
  });

  it("renders a hostile name as text", async () => {
    const { browser } = await signedIn();
    const xss = "<img src=x onerror=alert(1)>";
    const res = await browser.submit("/portal/keys", "/portal/keys", { name: xss, scopes: ["tokens:read", "secrets:read"], labels: "" });
    expect(res.status).toBe(201);
    const keys = await browser.get("/portal/keys");
    expect(keys.text).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(keys.text).not.toContain(xss);
  });
});

describe("portal: the vault", () => {
  it("adds an app-level secret, lists it without its value, assigns it to a key that reveals it through the API, rotates and deletes it", async () => {
    const { browser } = await signedIn();
    const created = await browser.submit("/portal/keys", "/portal/keys", { name: "runtime", scopes: ["secrets:read", "secrets:reveal", "audit:read"], labels: "" });
    expect(created.status).toBe(201);
    const key = /id="new-key">([^<]+)</.exec(created.text)![1]!;
    const value = canaryValue();
    const add = await browser.submit("/portal/vault/new", "/portal/vault/new", { name: "openai_api_key", value, owner: "app", scope: "", expiresAt: "2099-01-02T03:04", allowedHosts: "api.openai.com" });
    expect(add.status).toBe(303);
    const list = await browser.get("/portal/vault");
    expect(list.text).toContain("openai_api_key");
    expect(list.text).toContain("App-level");
    expect(list.text).toContain("2099-01-02 03:04");
    expect(list.text).toContain("api.openai.com");
    const id = /data-credential-id="(tok_[^"]+)"/.exec(list.text)![1]!;

    // Not assigned yet: the key does not see it.
    expect((await call("GET", "/vault/secrets/openai_api_key", { key })).status).toBe(404);
    const keyId = /data-key-id="(key_[^"]+)"/.exec((await browser.get("/portal/keys")).text)![1]!;
    expect((await browser.submit(`/portal/vault/${id}`, `/portal/vault/${id}/assign`, { keys: [keyId] })).status).toBe(303);
    const revealed = await call("GET", "/vault/secrets/openai_api_key", { key });
    expect(revealed.json).toMatchObject({ name: "openai_api_key", value });

    const next = canaryValue();
    expect((await browser.submit(`/portal/vault/${id}/rotate`, `/portal/vault/${id}/rotate`, { value: next })).status).toBe(303);
    expect((await call("GET", "/vault/secrets/openai_api_key", { key })).json.value).toBe(next);
    expect((await browser.get(`/portal/vault/${id}`)).text).toContain("v2");

    // Deleting takes the confirmation step's own form.
    const unconfirmed = await browser.submit(`/portal/vault/${id}`, `/portal/vault/${id}/delete`, {});
    expect(unconfirmed.location).toBe(`/portal/vault/${id}/delete`);
    expect((await browser.submit(`/portal/vault/${id}/delete`, `/portal/vault/${id}/delete`, { confirm: id })).status).toBe(303);
    expect((await call("GET", "/vault/secrets/openai_api_key", { key })).status).toBe(404);
    expect((await browser.get("/portal/vault")).text).not.toContain("openai_api_key");

    // The audit rows are the store's own, naming the user.
    const audit = await call("GET", `/v1/audit?targetId=${id}`, { key });
    expect(audit.json.entries.map((e: { action: string }) => e.action).sort()).toEqual(
      ["credential.version_retired", "vault.secret.assigned", "vault.secret.created", "vault.secret.deleted", "vault.secret.retrieved", "vault.secret.retrieved", "vault.secret.updated"].sort(),
    );
    expect(audit.json.entries.find((e: { action: string }) => e.action === "vault.secret.created").actor.type).toBe("user");
    const auditPage = await browser.get(`/portal/audit?targetId=${id}`);
    expect(auditPage.text).toContain("vault.secret.deleted");

    // No page ever held a value.
    for (const v of [value, next]) expect(browser.pages.filter((p) => p.includes(v))).toEqual([]);
  });

  it("shows field errors next to the field and keeps nothing of the value", async () => {
    const { browser } = await signedIn();
    const value = canaryValue();
    const res = await browser.submit("/portal/vault/new", "/portal/vault/new", { name: "bad name!", value, owner: "app", allowedHosts: "not a host" });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="f-name-error"/);
    expect(res.text).toMatch(/id="f-allowedHosts-error"/);
    expect(res.text).toContain('aria-invalid="true"');
    expect(res.text).not.toContain(value);
  });

  it("lists credentials of every view and revokes an API key after confirmation", async () => {
    const { browser } = await signedIn();
    const created = await browser.submit("/portal/keys", "/portal/keys", { name: "writer", scopes: ["tokens:write", "secrets:write", "secrets:read"], labels: "" });
    const key = /id="new-key">([^<]+)</.exec(created.text)![1]!;
    const tokenValue = canaryValue();
    const credentialValue = canaryValue();
    expect((await call("POST", "/v1/tokens", { key, body: { name: "<b>fal</b>", value: tokenValue } })).status).toBe(201);
    expect((await call("POST", "/v1/credentials", { key, body: { name: "stripe", type: "api-key", value: credentialValue } })).status).toBe(201);
    const list = await browser.get("/portal/vault");
    expect(list.text).toContain("&lt;b&gt;fal&lt;/b&gt;");
    expect(list.text).toContain("Credential");
    expect(list.text).toContain("stripe");
    expect(list.text).not.toContain(tokenValue);
    expect(list.text).not.toContain(credentialValue);

    const keyId = /data-key-id="(key_[^"]+)"/.exec((await browser.get("/portal/keys")).text)![1]!;
    const confirm = await browser.get(`/portal/keys/${keyId}/revoke`);
    expect(confirm.text).toContain("Revoke writer");
    expect((await browser.submit(`/portal/keys/${keyId}/revoke`, `/portal/keys/${keyId}/revoke`, { confirm: keyId })).status).toBe(303);
    expect((await call("GET", "/v1/tokens", { key })).status).toBe(401);
    expect((await browser.get("/portal/keys")).text).toContain("Revoked");
  });

  it("signs out for good: the old cookie no longer opens a page", async () => {
    const { browser } = await signedIn();
    const old = new Map(browser.cookies);
    expect((await browser.submit("/portal/vault", "/portal/logout", {})).location).toBe("/portal/login?done=signed-out");
    const replay = new PortalClient();
    for (const [k, v] of old) replay.cookies.set(k, v);
    expect((await replay.get("/portal/vault")).status).toBe(303);
  });
});
