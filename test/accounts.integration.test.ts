import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ALL_SCOPES, DEFAULT_SCOPES } from "../src/auth/scopes";
import { signSession } from "../src/auth/jwt";
import { PBKDF2_ITERATIONS } from "../src/auth/passwords";
import { routes } from "../src/routes";
import { call, newToken } from "./helpers/api";
import { asUser, createKey, PASSWORD, signupUser } from "./helpers/accounts";
import { describeUserAuthFailures, samplePath } from "./helpers/auth-cases";

/** A client address of its own, so per-address limits of unrelated tests do not add up. */
const anyAddress = () => ({ "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}` });

describe("session authentication on every account route", () => describeUserAuthFailures(routes));

describe("sign-up, login, logout", () => {
  it("walks the whole flow: signup -> key -> use it -> revoke -> 401", async () => {
    const u = await signupUser();
    expect(u.user).toEqual({ id: expect.stringMatching(/^usr_/), email: u.email, createdAt: expect.any(String) });
    expect(u.team).toMatchObject({ plan: "free", name: "user team" });
    const created = await createKey(u.token, u.team.id, { name: "Production Key" });
    expect(created.status).toBe(201);
    expect(created.json.apiKey).toMatchObject({ name: "Production Key", scopes: [...DEFAULT_SCOPES], revokedAt: null });
    const key = created.json.key as string;
    expect((await call("POST", "/v1/tokens", { key, body: { name: "n", value: "v" } })).status).toBe(201);
    const listed = await asUser(u.token, "GET", `/teams/${u.team.id}/apikeys`);
    expect(listed.json.apiKeys).toHaveLength(1);
    expect(listed.text).not.toContain(key);
    const revoked = await asUser(u.token, "POST", `/apikeys/${created.json.apiKey.id}/revoke`);
    expect(revoked.json.apiKey.revokedAt).toEqual(expect.any(String));
    const after = await call("GET", "/v1/tokens", { key });
    expect(after.status).toBe(401);
    expect(after.json).toEqual({ error: "Invalid or revoked API key", code: "invalid_api_key" });
  });

  it("logs in, and logout ends every earlier session", async () => {
    const u = await signupUser();
    const login = await call("POST", "/auth/login", { body: { email: u.email.toUpperCase(), password: PASSWORD }, headers: anyAddress() });
    expect(login.status).toBe(200);
    const token = login.json.token as string;
    expect((await asUser(token, "GET", "/teams")).json.teams).toEqual([{ ...u.team, role: "owner" }]);
    expect((await asUser(token, "POST", "/auth/logout")).json).toEqual({ loggedOut: true });
    for (const old of [token, u.token]) {
      const res = await asUser(old, "GET", "/teams");
      expect(res.status).toBe(401);
    }
    const again = await call("POST", "/auth/login", { body: { email: u.email, password: PASSWORD }, headers: anyAddress() });
    expect((await asUser(again.json.token, "GET", "/teams")).status).toBe(200);
  });

  it("gives one answer for an unknown email and a wrong password, and audits the failure without the password", async () => {
    const u = await signupUser();
    const wrong = await call("POST", "/auth/login", { body: { email: u.email, password: "not-the-password-123" }, headers: anyAddress() });
    const unknown = await call("POST", "/auth/login", { body: { email: `nobody-${u.email}`, password: "not-the-password-123" }, headers: anyAddress() });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json).toEqual({ error: "Invalid email or password", code: "invalid_credentials" });
    expect(unknown.json).toEqual(wrong.json);
    const { results } = await env.DB.prepare("SELECT * FROM audit_log WHERE team_id = ? AND action = 'login.failed'").bind(u.team.id).all();
    expect(results).toHaveLength(1);
    expect(JSON.stringify(results)).not.toContain("not-the-password-123");
  });

  it("limits login attempts per email with 429 and Retry-After", async () => {
    const u = await signupUser();
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 12; i++) {
      last = await call("POST", "/auth/login", { body: { email: u.email, password: "wrong-password-xyz" }, headers: anyAddress() });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect(last?.json).toEqual({ error: "Too many attempts, try again later", code: "too_many_attempts" });
    expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Even the right password waits out the limit.
    expect((await call("POST", "/auth/login", { body: { email: u.email, password: PASSWORD }, headers: anyAddress() })).status).toBe(429);
  });

  it("limits login attempts per client address too", async () => {
    const headers = { "cf-connecting-ip": "192.0.2.77" };
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) {
      statuses.push((await call("POST", "/auth/login", { body: { email: `nobody-${i}@example.com`, password: "whatever-password" }, headers })).status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(30);
    expect(statuses[30]).toBe(429);
  });

  it("validates sign-up input and refuses a second account for an email", async () => {
    const u = await signupUser();
    expect((await call("POST", "/auth/signup", { body: { email: u.email, password: PASSWORD, teamName: "x" }, headers: anyAddress() })).status).toBe(409);
    for (const body of [{ email: "nope", password: PASSWORD, teamName: "x" }, { email: "a@b.co", password: "short", teamName: "x" }, { email: "a@b.co", password: PASSWORD }]) {
      expect((await call("POST", "/auth/signup", { body })).status).toBe(400);
    }
  });

  it("stores only a salted PBKDF2 hash with its parameters", async () => {
    const u = await signupUser();
    const row = await env.DB.prepare("SELECT password_hash FROM users WHERE id = ?").bind(u.user.id).first<string>("password_hash");
    expect(row).toMatch(new RegExp(`^pbkdf2-sha256\\$${PBKDF2_ITERATIONS}\\$[A-Za-z0-9+/=]{24}\\$[A-Za-z0-9+/=]{44}$`));
    expect(row).not.toContain(PASSWORD);
  });
});

describe("session tokens", () => {
  it("refuse expired, tampered, wrongly signed and alg:none tokens", async () => {
    const u = await signupUser();
    const expired = await signSession(env, u.user.id, 0, Date.now() - 2 * 3600 * 1000);
    const wrongSecret = await signSession({ JWT_SECRET: "another-secret-0123456789abcdef0123456789" }, u.user.id, 0);
    const [h, p, s] = u.token.split(".") as [string, string, string];
    const payload = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = btoa(JSON.stringify({ ...payload, sub: "usr_01jrx7m2k0000000000000000a" })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
    const none = btoa(JSON.stringify({ alg: "none", typ: "JWT" })).replace(/=+$/, "");
    const hs512 = btoa(JSON.stringify({ alg: "HS512", typ: "JWT" })).replace(/=+$/, "");
    for (const token of [expired, wrongSecret, `${h}.${forged}.${s}`, `${none}.${p}.`, `${none}.${p}.${s}`, `${hs512}.${p}.${s}`, `${h}.${p}.${s.slice(0, -2)}AA`]) {
      const res = await asUser(token, "GET", "/teams");
      expect(res.status, token.slice(0, 40)).toBe(401);
      expect(res.json).toEqual({ error: "Invalid or expired session token", code: "invalid_session" });
    }
    expect((await asUser(u.token, "GET", "/teams")).status).toBe(200);
  });
});

describe("plans", () => {
  it("refuse a second key and a third member on Free, and lift both on Pro", async () => {
    const owner = await signupUser("owner");
    const teamId = owner.team.id;
    expect((await createKey(owner.token, teamId)).status).toBe(201);
    const second = await createKey(owner.token, teamId);
    expect(second.status).toBe(403);
    expect(second.json).toEqual({ error: "Plan limit reached: the free plan allows 1 API keys", code: "plan_limit_reached", limit: 1, plan: "free" });

    const invited = await asUser(owner.token, "POST", `/teams/${teamId}/members`, { email: "someone-new@example.com" });
    expect(invited.status).toBe(201);
    const third = await asUser(owner.token, "POST", `/teams/${teamId}/members`, { email: "third@example.com" });
    expect(third.status).toBe(403);
    expect(third.json).toEqual({ error: "Plan limit reached: the free plan allows 2 members", code: "plan_limit_reached", limit: 2, plan: "free" });

    const key = (await createKey(owner.token, teamId).catch(() => null))?.json;
    expect(key?.error).toMatch(/Plan limit/);
    const upgraded = await call("PATCH", `/admin/teams/${teamId}`, { admin: true, body: { plan: "pro" } });
    expect(upgraded.json.team.plan).toBe("pro");
    expect((await createKey(owner.token, teamId)).status).toBe(201);
    expect((await asUser(owner.token, "POST", `/teams/${teamId}/members`, { email: "third@example.com" })).status).toBe(201);
    const audit = await env.DB.prepare("SELECT metadata FROM audit_log WHERE team_id = ? AND action = 'plan.changed'").bind(teamId).first<string>("metadata");
    expect(JSON.parse(audit ?? "{}")).toEqual({ from: "free", to: "pro" });
  });

  it("apply a downgrade from the next request too", async () => {
    const owner = await signupUser();
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
    const key = (await createKey(owner.token, owner.team.id)).json.key as string;
    expect((await call("GET", "/v1/tokens", { key })).headers.get("x-ratelimit-limit")).toBe("600");
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "free" } });
    expect((await call("GET", "/v1/tokens", { key })).headers.get("x-ratelimit-limit")).toBe("60");
  });

  it("change the rate limit from the next request", async () => {
    const owner = await signupUser();
    const key = (await createKey(owner.token, owner.team.id)).json.key as string;
    expect((await call("GET", "/v1/tokens", { key })).headers.get("x-ratelimit-limit")).toBe("60");
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
    expect((await call("GET", "/v1/tokens", { key })).headers.get("x-ratelimit-limit")).toBe("600");
  });
});

describe("scopes", () => {
  const scoped = routes.filter((r) => r.auth === "apiKey");

  it("every /v1 route requires a scope", () => {
    for (const route of scoped) expect(route.scope, `${route.method} ${route.path}`).toBeDefined();
  });

  it.each(scoped.map((r) => [`${r.method} ${r.path} (${r.scope})`, r] as const))("%s refuses a key without its scope", async (_name, route) => {
    const owner = await signupUser();
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
    const others = ALL_SCOPES.filter((s) => s !== route.scope);
    const key = (await createKey(owner.token, owner.team.id, { name: "narrow", scopes: others })).json.key as string;
    const res = await call(route.method, samplePath(route), { key, body: route.body ? {} : undefined });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: `This API key lacks the scope ${route.scope}`, code: "insufficient_scope", requiredScope: route.scope });
    // A key with only that scope gets past the check (to validation, a 404, or success).
    const only = (await createKey(owner.token, owner.team.id, { name: "only", scopes: [route.scope] })).json.key as string;
    const allowed = await call(route.method, samplePath(route), { key: only, body: route.body ? {} : undefined });
    expect(allowed.json?.requiredScope, `${route.method} ${route.path}`).toBeUndefined();
    expect([401, 403, 429]).not.toContain(allowed.status);
  });

  it("a read-only key reads but cannot write", async () => {
    const owner = await signupUser();
    const full = (await createKey(owner.token, owner.team.id)).json.key as string;
    await newToken(full, "secret-value");
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
    const readOnly = (await createKey(owner.token, owner.team.id, { name: "ro", scopes: ["tokens:read"] })).json;
    expect(readOnly.apiKey.scopes).toEqual(["tokens:read"]);
    expect((await call("GET", "/v1/tokens", { key: readOnly.key })).json.tokens).toHaveLength(1);
    expect((await call("POST", "/v1/tokens", { key: readOnly.key, body: { name: "x", value: "y" } })).status).toBe(403);
    expect((await createKey(owner.token, owner.team.id, { name: "bad", scopes: ["admin:all"] })).status).toBe(400);
  });
});

describe("members and invitations", () => {
  it("adds registered users, invites others with a one-time token, and keeps the last owner", async () => {
    const owner = await signupUser("owner");
    await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
    const t = owner.team.id;
    const bob = await signupUser("bob");
    const added = await asUser(owner.token, "POST", `/teams/${t}/members`, { email: bob.email, role: "member" });
    expect(added.json).toEqual({ member: { userId: bob.user.id, email: bob.email, role: "member", createdAt: expect.any(String) } });
    expect((await asUser(owner.token, "POST", `/teams/${t}/members`, { email: bob.email })).status).toBe(409);

    // A member reads but does not manage.
    expect((await asUser(bob.token, "GET", `/teams/${t}/members`)).json.members).toHaveLength(2);
    expect((await asUser(bob.token, "POST", `/teams/${t}/members`, { email: "x@example.com" })).status).toBe(403);
    expect((await createKey(bob.token, t)).status).toBe(403);

    // Invitation for an email without an account.
    const carolEmail = `carol-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const invite = await asUser(owner.token, "POST", `/teams/${t}/members`, { email: carolEmail, role: "admin" });
    expect(invite.json.invitation).toMatchObject({ email: carolEmail, role: "admin" });
    const acceptToken = invite.json.acceptToken as string;
    expect((await asUser(owner.token, "GET", `/teams/${t}/members`)).text).not.toContain(acceptToken);
    const carol = (await call("POST", "/auth/signup", { body: { email: carolEmail, password: PASSWORD, teamName: "carol" }, headers: anyAddress() })).json;
    expect((await asUser(bob.token, "POST", "/invitations/accept", { token: acceptToken })).status).toBe(403);
    const accepted = await asUser(carol.token, "POST", "/invitations/accept", { token: acceptToken });
    expect(accepted.json.team).toMatchObject({ id: t, role: "admin" });
    expect((await asUser(carol.token, "POST", "/invitations/accept", { token: acceptToken })).status).toBe(404);

    // Roles: admins manage members but not owners; the last owner stays.
    expect((await asUser(carol.token, "PATCH", `/teams/${t}/members/${bob.user.id}`, { role: "admin" })).json.member.role).toBe("admin");
    expect((await asUser(carol.token, "PATCH", `/teams/${t}/members/${owner.user.id}`, { role: "member" })).status).toBe(403);
    const demoteSelf = await asUser(owner.token, "PATCH", `/teams/${t}/members/${owner.user.id}`, { role: "admin" });
    expect(demoteSelf.status).toBe(409);
    expect(demoteSelf.json).toEqual({ error: "A team must keep at least one owner", code: "last_owner" });
    const leave = await asUser(owner.token, "DELETE", `/teams/${t}/members/${owner.user.id}`);
    expect(leave.json).toEqual({ error: "The last owner cannot be removed", code: "last_owner" });
    expect((await asUser(carol.token, "DELETE", `/teams/${t}/members/${bob.user.id}`)).status).toBe(200);
    expect((await asUser(bob.token, "GET", `/teams/${t}`)).json).toEqual({ error: "Access denied", code: "access_denied" });

    const actions = await env.DB.prepare("SELECT action FROM audit_log WHERE team_id = ? ORDER BY id").bind(t).all<{ action: string }>();
    expect(actions.results.map((r) => r.action)).toEqual(
      expect.arrayContaining(["member.added", "invitation.created", "invitation.accepted", "member.role_changed", "member.removed", "plan.changed"]),
    );
  });
});

describe("invitation lifecycle", () => {
  it("refuses a duplicate pending invitation and frees the seat when one is withdrawn", async () => {
    const owner = await signupUser("owner");
    const t = owner.team.id;
    const email = `pending-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const first = await asUser(owner.token, "POST", `/teams/${t}/members`, { email });
    expect(first.status).toBe(201);
    expect((await asUser(owner.token, "POST", `/teams/${t}/members`, { email })).status).toBe(409);
    expect((await asUser(owner.token, "POST", `/teams/${t}/members`, { email: "other@example.com" })).status).toBe(403);
    const withdrawn = await asUser(owner.token, "DELETE", `/teams/${t}/invitations/${first.json.invitation.id}`);
    expect(withdrawn.json).toEqual({ cancelled: true });
    expect((await asUser(owner.token, "POST", `/teams/${t}/members`, { email: "other@example.com" })).status).toBe(201);
    // The withdrawn token no longer works.
    const invitee = (await call("POST", "/auth/signup", { body: { email, password: PASSWORD, teamName: "x" }, headers: anyAddress() })).json;
    expect((await asUser(invitee.token, "POST", "/invitations/accept", { token: first.json.acceptToken })).status).toBe(404);
  });

  it("voids an invitation whose sender can no longer manage members", async () => {
    const owner = await signupUser("owner");
    const t = owner.team.id;
    await call("PATCH", `/admin/teams/${t}`, { admin: true, body: { plan: "pro" } });
    const admin = await signupUser("admin");
    await asUser(owner.token, "POST", `/teams/${t}/members`, { email: admin.email, role: "admin" });
    const email = `invitee-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const invite = await asUser(admin.token, "POST", `/teams/${t}/members`, { email });
    expect(invite.status).toBe(201);
    await asUser(owner.token, "DELETE", `/teams/${t}/members/${admin.user.id}`);
    const invitee = (await call("POST", "/auth/signup", { body: { email, password: PASSWORD, teamName: "x" }, headers: anyAddress() })).json;
    expect((await asUser(invitee.token, "POST", "/invitations/accept", { token: invite.json.acceptToken })).status).toBe(404);
  });

  it("refuses an expired invitation", async () => {
    const owner = await signupUser("owner");
    const email = `late-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const invite = await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email });
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), invite.json.invitation.id).run();
    const invitee = (await call("POST", "/auth/signup", { body: { email, password: PASSWORD, teamName: "x" }, headers: anyAddress() })).json;
    const res = await asUser(invitee.token, "POST", "/invitations/accept", { token: invite.json.acceptToken });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: "Invitation not found or expired", code: "not_found" });
  });
});

describe("cross-team isolation", () => {
  it("refuses a user of team A everything on team B, and changes nothing", async () => {
    const a = await signupUser("a");
    const b = await signupUser("b");
    const bKey = (await createKey(b.token, b.team.id)).json;
    const snapshot = async () =>
      JSON.stringify([
        (await env.DB.prepare("SELECT * FROM memberships WHERE team_id = ? ORDER BY user_id").bind(b.team.id).all()).results,
        (await env.DB.prepare("SELECT * FROM api_keys WHERE team_id = ? ORDER BY id").bind(b.team.id).all()).results,
        (await env.DB.prepare("SELECT * FROM invitations WHERE team_id = ? ORDER BY id").bind(b.team.id).all()).results,
      ]);
    const before = await snapshot();
    const attempts: [string, string, unknown?][] = [
      ["GET", `/teams/${b.team.id}`],
      ["GET", `/teams/${b.team.id}/members`],
      ["POST", `/teams/${b.team.id}/members`, { email: a.email }],
      ["PATCH", `/teams/${b.team.id}/members/${b.user.id}`, { role: "member" }],
      ["DELETE", `/teams/${b.team.id}/members/${b.user.id}`],
      ["POST", `/teams/${b.team.id}/apikeys`, { name: "mine now" }],
      ["GET", `/teams/${b.team.id}/apikeys`],
      ["POST", `/apikeys/${bKey.apiKey.id}/revoke`],
      ["DELETE", `/teams/${b.team.id}/invitations/inv_01jrx7m2k0000000000000000a`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await asUser(a.token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.json, `${method} ${path}`).toEqual({ error: "Access denied", code: "access_denied" });
    }
    expect(await snapshot()).toEqual(before);
    expect((await call("GET", "/v1/tokens", { key: bKey.key })).status).toBe(200);

    // With their API keys: tokens, tasks and audit of the other team are out of reach.
    const aKey = (await createKey(a.token, a.team.id)).json.key as string;
    const bToken = await newToken(bKey.key, "b-secret-value");
    const bTask = await call("POST", "/v1/tasks", { key: bKey.key, body: { targetUrl: "https://api.example.com/x", delay: 3600 } });
    for (const [method, path] of [["GET", `/v1/tokens/${bToken}`], ["DELETE", `/v1/tokens/${bToken}`], ["GET", `/v1/tasks/${bTask.json.task.id}`], ["POST", `/v1/tasks/${bTask.json.task.id}/cancel`]] as const) {
      expect((await call(method, path, { key: aKey })).json, path).toEqual({ error: "Access denied", code: "access_denied" });
    }
    expect((await call("GET", `/v1/audit?targetId=${bToken}`, { key: aKey })).json.entries).toEqual([]);
    expect((await call("GET", `/v1/tasks/${bTask.json.task.id}`, { key: bKey.key })).json.task.status).toBe("delayed");
  });
});
