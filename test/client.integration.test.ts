import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike } from "../src/client";
import { newTeam } from "./helpers/api";
import { upstreamNamespace } from "./helpers/tasks";
import { keyFor, proOwner } from "./helpers/store";

/**
 * The typed client inside workerd, its `fetch` bound to this Worker (SELF): what a Worker
 * calling the vault through a service binding does.
 */
const BASE = "https://vault.test";
const selfFetch: FetchLike = (url, init) => SELF.fetch(url, init);
const client = (apiKey?: string) => new Vault({ baseUrl: BASE, apiKey, fetch: selfFetch });

async function caught(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  return error as VaultError;
}

describe("tokens", () => {
  it("creates, gets, lists and revokes; the value never comes back", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const secret = `sk-client-canary-${crypto.randomUUID()}`;
    const token = await vault.tokens.create({ name: "stripe", value: secret });
    expect(token).toMatchObject({ name: "stripe" });
    expect(token.id).toMatch(/^tok_[0-9a-z]{26}$/);
    expect(JSON.stringify(token)).not.toContain(secret);

    expect(await vault.tokens.get(token.id)).toEqual(token);
    const page = await vault.tokens.list();
    expect(page.tokens.map((t) => t.id)).toEqual([token.id]);
    expect(page.pagination).toMatchObject({ total: 1, hasMore: false, nextCursor: null });

    const revoked = await vault.tokens.revoke(token.id);
    expect(revoked.id).toBe(token.id);
    expect(typeof revoked.revokedAt).toBe("string");
    expect((await vault.tokens.list()).tokens).toEqual([]);
  });

  it("iterate() walks every page by cursor, newest first", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await vault.tokens.create({ name: `t${i}`, value: `v-${i}` })).id);
    const seen: string[] = [];
    for await (const token of vault.tokens.iterate({ limit: 2 })) seen.push(token.id);
    expect(seen).toEqual([...ids].reverse());
  });
});

describe("errors: one VaultError with the server's code", () => {
  it("401 invalid_api_key, with the request id", async () => {
    const error = await caught(client("tvk_not-a-real-key").tokens.list());
    expect(error).toMatchObject({ status: 401, code: "invalid_api_key", message: "Invalid or revoked API key", name: "VaultError" });
    expect(error.requestId).toMatch(/^req_/);
  });

  it("401 api_key_required without a key", async () => {
    const error = await caught(client().tokens.list());
    expect(error).toMatchObject({ status: 401, code: "api_key_required" });
  });

  it("404 not_found for an unknown token", async () => {
    const team = await newTeam();
    const error = await caught(client(team.key).tokens.get("tok_00000000000000000000000000"));
    expect(error).toMatchObject({ status: 404, code: "not_found" });
  });

  it("400 validation_failed carries the issues by path", async () => {
    const team = await newTeam();
    const error = await caught(client(team.key).tokens.create({ name: "", value: "x" }));
    expect(error).toMatchObject({ status: 400, code: "validation_failed" });
    expect(error.issues).toEqual([{ path: "body.name", message: "name must not be empty" }]);
    expect(error.details.issues).toBe(error.issues);
  });

  it("403 insufficient_scope keeps the detail fields", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const signup = await vault.auth.signup({ email: `scope-${crypto.randomUUID()}@example.com`, password: "a long enough password", teamName: "scoped" });
    const user = vault.with({ sessionToken: signup.token });
    const { key } = await user.keys.create(signup.team.id, { name: "read only", scopes: ["tokens:read"] });
    const error = await caught(client(key).tokens.create({ name: "n", value: "v" }));
    expect(error).toMatchObject({ status: 403, code: "insufficient_scope", details: { requiredScope: "tokens:write" } });
  });

  it("a fetch that throws is network_error (status 0), without the credential in the message", async () => {
    const failing: FetchLike = () => Promise.reject(new TypeError("connect ECONNREFUSED 127.0.0.1:1"));
    const error = await caught(new Vault({ baseUrl: BASE, apiKey: "tvk_secret-in-options", fetch: failing }).tokens.list());
    expect(error).toMatchObject({ status: 0, code: "network_error" });
    expect(error.message).toContain("ECONNREFUSED");
    expect(error.message).not.toContain("tvk_secret-in-options");
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it("an answer that is not the API's JSON is unexpected_response, with Retry-After read", async () => {
    const proxy: FetchLike = async () => new Response("<html>Bad gateway</html>", { status: 502, headers: { "retry-after": "7" } });
    const error = await caught(new Vault({ baseUrl: BASE, fetch: proxy }).providers.list());
    expect(error).toMatchObject({ status: 502, code: "unexpected_response", retryAfter: 7 });
  });
});

describe("tasks", () => {
  it("create then wait() returns the final task", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const upstream = upstreamNamespace();
    const token = await vault.tokens.create({ name: "upstream", value: `sk-task-${crypto.randomUUID()}` });
    const task = await vault.tasks.create({ targetUrl: upstream.url("ok"), headers: { Authorization: `Bearer ${token.id}` } }, { idempotencyKey: "client-1" });
    expect(task.status).toMatch(/^(pending|processing|completed)$/);

    const done = await vault.tasks.wait(task.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ id: task.id, status: "completed", result: { statusCode: 200 } });
    // The idempotency key went out as the header: the same key answers the same task.
    expect((await vault.tasks.create({ targetUrl: upstream.url("ok"), headers: { Authorization: `Bearer ${token.id}` } }, { idempotencyKey: "client-1" })).id).toBe(task.id);
    expect((await vault.tasks.list({ status: "completed" })).tasks.map((t) => t.id)).toEqual([task.id]);
  });

  it("wait() adopts the plan's max wait time when asked for more", async () => {
    const team = await newTeam("free");
    const waits: string[] = [];
    const recording: FetchLike = (url, init) => {
      const wait = new URL(url).searchParams.get("wait");
      if (wait) waits.push(wait);
      return SELF.fetch(url, init);
    };
    const vault = new Vault({ baseUrl: BASE, apiKey: team.key, fetch: recording });
    const task = await vault.tasks.create({ targetUrl: upstreamNamespace().url("ok") });
    // 60 s is over the Free plan's 30: the server's max_wait_exceeded is absorbed, not thrown.
    expect((await vault.tasks.wait(task.id, { timeoutMs: 60_000, pollSeconds: 120 })).status).toBe("completed");
    expect(waits.slice(0, 2)).toEqual(["60", "30"]);
  });

  it("wait() gives up with wait_timeout; cancel() then ends the task", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const task = await vault.tasks.create({ targetUrl: upstreamNamespace().url("ok"), delay: 3600 });
    const error = await caught(vault.tasks.wait(task.id, { timeoutMs: 1000 }));
    expect(error).toMatchObject({ status: 0, code: "wait_timeout", details: { taskId: task.id, status: "delayed" } });
    expect((await vault.tasks.cancel(task.id)).status).toBe("cancelled");
    expect((await vault.tasks.wait(task.id)).status).toBe("cancelled");
    const notCancellable = await caught(vault.tasks.cancel(task.id));
    expect(notCancellable).toMatchObject({ status: 409, code: "task_not_cancellable" });
  });
});

describe("audit, webhooks, providers", () => {
  it("audit.list filters; audit.iterate pages", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const a = await vault.tokens.create({ name: "a", value: "va" });
    const b = await vault.tokens.create({ name: "b", value: "vb" });
    const created = await vault.audit.list({ action: "token.created" });
    expect(created.entries.map((e) => e.target.id)).toEqual([b.id, a.id]);
    const all: string[] = [];
    for await (const entry of vault.audit.iterate({ limit: 1 })) all.push(entry.action);
    expect(all.slice(0, 2)).toEqual(["token.created", "token.created"]);
    expect(all.slice(2).sort()).toEqual(["apikey.created", "team.created"]);
  });

  it("webhooks.secret() is stable until rotate()", async () => {
    const team = await newTeam();
    const vault = client(team.key);
    const first = await vault.webhooks.secret();
    expect(first.secret).toMatch(/^whsec_/);
    expect((await vault.webhooks.secret()).secret).toBe(first.secret);
    const rotated = await vault.webhooks.rotate();
    expect(rotated.secret).not.toBe(first.secret);
    expect((await vault.webhooks.secret()).secret).toBe(rotated.secret);
  });

  it("providers.list() needs no credential", async () => {
    const providers = await client().providers.list();
    expect(providers.map((p) => p.name).sort()).toEqual(["fal", "replicate"]);
  });
});

describe("accounts: sessions, teams, keys", () => {
  it("sign up, log in, list teams, create a key that works, revoke it, log out", async () => {
    const anonymous = client();
    const email = `client-${crypto.randomUUID()}@example.com`;
    const signup = await anonymous.auth.signup({ email, password: "correct horse battery", teamName: "Client Co" });
    const { token } = await anonymous.auth.login({ email, password: "correct horse battery" });
    const user = anonymous.with({ sessionToken: token });

    const teams = await user.teams.list();
    expect(teams).toEqual([expect.objectContaining({ id: signup.team.id, role: "owner" })]);
    expect(await user.teams.get(signup.team.id)).toMatchObject({ id: signup.team.id, name: "Client Co" });
    expect((await user.teams.members(signup.team.id)).members).toEqual([expect.objectContaining({ email, role: "owner" })]);

    const created = await user.keys.create(signup.team.id, { name: "ci" });
    expect(created.key).toMatch(/^tvk_/);
    expect((await user.keys.list(signup.team.id)).map((k) => k.id)).toEqual([created.apiKey.id]);
    expect((await client(created.key).tokens.list()).tokens).toEqual([]);

    expect((await user.keys.revoke(created.apiKey.id)).revokedAt).toEqual(expect.any(String));
    expect(await caught(client(created.key).tokens.list())).toMatchObject({ status: 401, code: "invalid_api_key" });

    await user.auth.logout();
    expect(await caught(user.teams.list())).toMatchObject({ status: 401, code: "invalid_session" });
    expect(await caught(anonymous.teams.list())).toMatchObject({ status: 401, code: "session_required" });
  });
});

/** A signed-up owner's client with a key holding every scope (leases and reveal need `secrets:reveal`). */
async function revealer() {
  const owner = await proOwner("client-store");
  const k = await keyFor(owner);
  return { owner, key: k.key, keyId: k.id, vault: client(k.key) };
}

describe("credentials and leases: seed 004 through the client", () => {
  it("the seed's snippets as written: create, lease (lease.value), rotate; the value only in leases", async () => {
    const { key } = await revealer();
    // Every answer the client reads, to search for the values.
    const answers: string[] = [];
    const recording: FetchLike = async (url, init) => {
      const response = await SELF.fetch(url, init);
      answers.push(await response.clone().text());
      return response;
    };
    const seen = (value: string) => answers.filter((a) => a.includes(value)).length;
    {
      const vault = new Vault({ baseUrl: BASE, apiKey: key, fetch: recording });
      // --- seed 004, verbatim ---
      await vault.credentials.create({
        name: 'openai-api-key-prod',
        type: 'api-key',
        value: 'sk-proj-abc123...',
        metadata: {
          service: 'openai',
          environment: 'production',
          prefix: 'sk-proj-',
          team: 'ml-platform',
        },
        policy: {
          defaultLeaseTTL: '30m',
          maxLeaseTTL: '4h',
          maxLeases: 5,
        },
      });

      const lease = await vault.leases.create({
        credentialName: 'openai-api-key-prod',
        ttl: '30m',
        identity: { type: 'agent', name: 'claude-code' },
      });
      expect(`Bearer ${lease.value}`).toBe("Bearer sk-proj-abc123...");
      expect(lease).toMatchObject({ id: expect.stringMatching(/^lease_/), credentialName: "openai-api-key-prod", version: 1, ttlSeconds: 1800, identity: { type: "agent", name: "claude-code" } });

      await vault.credentials.rotate({
        name: 'openai-api-key-prod',
        newValue: 'sk-proj-newkey456...',
      });

      await vault.credentials.create({
        name: 'aws-deploy-key-prod',
        type: 'api-key',
        value: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        metadata: {
          service: 'aws',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          environment: 'production',
          iamUser: 'deploy-bot',
        },
      });
      // --- end of the seed ---

      // The old lease keeps version 1; a new lease gets the new value.
      const fresh = await vault.leases.create({ credentialName: "openai-api-key-prod", identity: { type: "agent", name: "next" } });
      expect([fresh.version, fresh.value]).toEqual([2, "sk-proj-newkey456..."]);
      const held = await vault.leases.list({ credentialName: "openai-api-key-prod", identity: "agent:claude-code", active: true });
      expect(held.map((l) => [l.id, l.version, l.state])).toEqual([[lease.id, 1, "active"]]);
      expect(held[0]).not.toHaveProperty("value");

      // Only the two lease answers ever carried a value.
      expect(seen("sk-proj-abc123...")).toBe(1);
      expect(seen("sk-proj-newkey456...")).toBe(1);
      expect(seen("wJalrXUtnFEMI")).toBe(0);
    }
  });

  it("list filters, get, update (PATCH), delete; rotate answers the previous version", async () => {
    const { vault, owner } = await revealer();
    const openai = await vault.credentials.create({ name: "openai", type: "api-key", value: "sk-proj-1", metadata: { service: "openai", environment: "production", prefix: "sk-proj-" } });
    expect(openai).toMatchObject({ id: expect.stringMatching(/^tok_/), name: "openai", currentVersion: 1, state: "active", allowedHosts: null });
    await vault.credentials.create({ name: "stripe", type: "api-key", value: "sk_test_1", metadata: { service: "stripe", environment: "staging" } });

    expect((await vault.credentials.list({ service: "openai" })).map((c) => c.name)).toEqual(["openai"]);
    expect((await vault.credentials.list({ environment: "staging" })).map((c) => c.name)).toEqual(["stripe"]);
    expect((await vault.credentials.list({ type: "api-key" })).map((c) => c.name).sort()).toEqual(["openai", "stripe"]);
    expect(await vault.credentials.list({ rotationDue: true })).toEqual([]);
    expect(await vault.credentials.get("openai")).toEqual(openai);

    const patched = await vault.credentials.update("stripe", { metadata: { service: "stripe", rotateEvery: "90d" }, policy: { maxLeases: 2 }, allowedHosts: ["API.Stripe.com"] });
    expect(patched).toMatchObject({ metadata: { service: "stripe", rotateEvery: "90d" }, effectivePolicy: { maxLeases: 2 }, allowedHosts: ["api.stripe.com"] });
    await env.DB.prepare("UPDATE tokens SET created_at = '2020-01-01T00:00:00.000Z' WHERE name = 'stripe' AND team_id = ?").bind(owner.team.id).run();
    expect((await vault.credentials.list({ rotationDue: true })).map((c) => c.name)).toEqual(["stripe"]);
    expect((await vault.credentials.list({ rotationDue: false })).map((c) => c.name)).toEqual(["openai"]);
    expect((await vault.credentials.update("stripe", { allowedHosts: null })).allowedHosts).toBeNull();

    const rotated = await vault.credentials.rotate({ name: "openai", newValue: "sk-proj-2", gracePeriod: "15m" });
    expect(rotated).toMatchObject({ credential: { name: "openai", currentVersion: 2 }, previousVersion: { version: 1, state: expect.any(String) } });
    expect(JSON.stringify(rotated)).not.toContain("sk-proj-2");

    const deleted = await vault.credentials.delete("stripe");
    expect(deleted).toMatchObject({ name: "stripe", state: "deleted" });
    expect(await caught(vault.credentials.get("stripe"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("leases: renew within maxExpiresAt, revoke, list filters", async () => {
    const { vault, keyId } = await revealer();
    await vault.credentials.create({ name: "db", type: "api-key", value: "pg-secret-1", policy: { defaultLeaseTTL: "10m", maxLeaseTTL: "1h" } });
    const a = await vault.leases.create({ credentialName: "db", identity: { type: "agent", name: "a" } });
    const b = await vault.leases.create({ credentialName: "db", ttl: 60, identity: { type: "job", name: "b" } });
    expect([a.ttlSeconds, b.ttlSeconds]).toEqual([600, 60]);

    const renewed = await vault.leases.renew(a.id, { ttl: "7d" });
    expect(renewed).toMatchObject({ id: a.id, state: "active", expiresAt: a.maxExpiresAt, caller: { type: "api_key", id: keyId } });
    expect(renewed).not.toHaveProperty("value");
    expect((await vault.leases.renew(b.id)).state).toBe("active");

    expect((await vault.leases.list({ identity: "b" })).map((l) => l.id)).toEqual([b.id]);
    const revoked = await vault.leases.revoke(b.id);
    expect(revoked).toMatchObject({ id: b.id, state: "revoked", revokedAt: expect.any(String) });
    expect((await vault.leases.list({ credentialName: "db", active: true })).map((l) => l.id)).toEqual([a.id]);
    // active: false is no filter: every lease, newest first.
    expect((await vault.leases.list({ active: false })).map((l) => l.id)).toEqual([b.id, a.id]);
  });
});

describe("named secrets: seed 001 through vault.secrets", () => {
  it("set (create, then update), get reveals, list never does, delete", async () => {
    const { vault } = await revealer();
    const value = `sk-abc123-${crypto.randomUUID()}`;
    const created = await vault.secrets.set({ name: "openai_api_key", value });
    expect(created).toEqual({ success: true, action: "created", id: expect.stringMatching(/^tok_/) });
    const { value: got } = await vault.secrets.get("openai_api_key");
    expect(got).toBe(value);

    expect(await vault.secrets.upsert({ name: "stripe_secret_key", value: "sk_live_...", scope: [], expiresAt: "2099-12-31T23:59:59Z" })).toMatchObject({ action: "created" });
    expect(await vault.secrets.get("stripe_secret_key")).toEqual({ name: "stripe_secret_key", value: "sk_live_...", scope: [], expiresAt: "2099-12-31T23:59:59.000Z" });
    const list = await vault.secrets.list();
    expect(list.map((s) => s.name)).toEqual(["openai_api_key", "stripe_secret_key"]);
    expect(list[0]).toMatchObject({ id: created.id, scope: [], expiresAt: null, createdAt: expect.any(String) });
    expect(JSON.stringify(list)).not.toContain(value);

    expect(await vault.secrets.set({ name: "openai_api_key", value: `${value}-2` })).toEqual({ success: true, action: "updated", id: created.id });
    expect((await vault.secrets.get("openai_api_key")).value).toBe(`${value}-2`);
    expect(await vault.secrets.delete("openai_api_key")).toEqual({ success: true, action: "deleted" });
    expect(await caught(vault.secrets.get("openai_api_key"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("assign / unassign share an app-level secret with another key", async () => {
    const { vault, owner } = await revealer();
    const other = await keyFor(owner, { name: "other" });
    const otherVault = client(other.key);
    await vault.secrets.set({ name: "shared", value: "shared-value" });
    expect(await caught(otherVault.secrets.get("shared"))).toMatchObject({ status: 404, code: "not_found" });
    expect(await vault.secrets.assign("shared", other.id)).toEqual({ success: true, action: "assigned", apiKeyId: other.id });
    expect((await otherVault.secrets.get("shared")).value).toBe("shared-value");
    expect(await vault.secrets.unassign("shared", other.id)).toEqual({ success: true, action: "unassigned", apiKeyId: other.id });
    expect(await caught(otherVault.secrets.get("shared"))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("user-level secrets with a session; teamId names the team (X-Team-Id) for a user in several", async () => {
    const owner = await proOwner("client-owner");
    const key = await keyFor(owner);
    const user = new Vault({ baseUrl: BASE, sessionToken: owner.token, fetch: selfFetch });
    expect((await user.secrets.set({ name: "my_key", value: "mine" })).action).toBe("created");
    expect((await user.secrets.get("my_key")).value).toBe("mine");
    // With both credentials the key wins (app-level secrets); dropping it acts as the user.
    const both = new Vault({ baseUrl: BASE, apiKey: key.key, sessionToken: owner.token, fetch: selfFetch });
    expect(await caught(both.secrets.get("my_key"))).toMatchObject({ status: 404, code: "not_found" });
    expect((await both.with({ apiKey: undefined }).secrets.get("my_key")).value).toBe("mine");

    // A user in two teams must name one.
    const invitee = await proOwner("client-invitee2");
    await user.teams.addMember(owner.team.id, { email: invitee.email, role: "member" });
    const several = new Vault({ baseUrl: BASE, sessionToken: invitee.token, fetch: selfFetch });
    const refused = await caught(several.secrets.list());
    expect(refused).toMatchObject({ status: 400, code: "team_required" });
    expect(refused.details.teams).toEqual(expect.arrayContaining([owner.team.id, invitee.team.id]));
    expect(await several.with({ teamId: owner.team.id }).secrets.list()).toEqual([]);
    expect((await several.with({ teamId: invitee.team.id }).secrets.set({ name: "own", value: "v" })).action).toBe("created");
    expect((await several.with({ teamId: invitee.team.id }).secrets.list()).map((s) => s.name)).toEqual(["own"]);
    expect(await caught(user.with({ teamId: invitee.team.id }).secrets.list())).toMatchObject({ status: 403, code: "access_denied" });
  });
});

describe("store errors: VaultError codes", () => {
  it("name_taken, value_prefix_mismatch, lease_limit_reached (retryAfter), lease_expired, secret_expired, insufficient_scope", async () => {
    const { vault, owner } = await revealer();
    const input = { name: "limited", type: "api-key" as const, value: "sk-proj-x", metadata: { prefix: "sk-proj-" }, policy: { maxLeases: 1 } };
    await vault.credentials.create(input);
    expect(await caught(vault.credentials.create(input))).toMatchObject({ status: 409, code: "name_taken" });
    const mismatch = await caught(vault.credentials.rotate({ name: "limited", newValue: "sk_live_wrong" }));
    expect(mismatch).toMatchObject({ status: 400, code: "value_prefix_mismatch" });
    expect(JSON.stringify(mismatch)).not.toContain("sk_live_wrong");

    const lease = await vault.leases.create({ credentialName: "limited", ttl: "10m", identity: { type: "agent", name: "one" } });
    const full = await caught(vault.leases.create({ credentialName: "limited", identity: { type: "agent", name: "two" } }));
    expect(full).toMatchObject({ status: 429, code: "lease_limit_reached" });
    expect(full.retryAfter).toBeGreaterThan(0);
    expect(full.retryAfter).toBeLessThanOrEqual(600);
    await vault.leases.revoke(lease.id);
    expect(await caught(vault.leases.renew(lease.id))).toMatchObject({ status: 410, code: "lease_expired" });
    expect((await vault.leases.create({ credentialName: "limited", identity: { type: "agent", name: "two" } })).value).toBe("sk-proj-x");

    await vault.secrets.set({ name: "old", value: "expired-value", expiresAt: "2020-01-01T00:00:00Z" });
    const expired = await caught(vault.secrets.get("old"));
    expect(expired).toMatchObject({ status: 410, code: "secret_expired" });
    expect(JSON.stringify({ ...expired, message: expired.message })).not.toContain("expired-value");
    expect((await vault.secrets.list())[0]).toMatchObject({ name: "old", expired: true });

    expect(await caught(vault.leases.create({ credentialName: "missing", identity: { type: "agent", name: "x" } }))).toMatchObject({ status: 404, code: "not_found" });
    const writer = client((await keyFor(owner, { scopes: ["secrets:read", "secrets:write"] })).key);
    expect(await caught(writer.leases.create({ credentialName: "limited", identity: { type: "agent", name: "w" } }))).toMatchObject({ status: 403, code: "insufficient_scope", details: { requiredScope: "secrets:reveal" } });
    expect(await caught(writer.secrets.get("old"))).toMatchObject({ status: 403, code: "insufficient_scope" });
  });
});
