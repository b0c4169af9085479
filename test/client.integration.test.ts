import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike } from "../src/client";
import { newTeam } from "./helpers/api";
import { upstreamNamespace } from "./helpers/tasks";

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
