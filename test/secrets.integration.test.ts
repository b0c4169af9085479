import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { asUser } from "./helpers/accounts";
import { CANARY } from "./helpers/constants";
import { auditRows, keyFor, proOwner } from "./helpers/store";

/** Named secrets (seed 001): the calls as the seed writes them, ownership, scope labels, expiry. */
describe("named secrets: seed 001 as written", () => {
  it("stores, retrieves, lists, updates and deletes; audits the four seed actions", async () => {
    const owner = await proOwner();
    const m2m = await keyFor(owner);
    const created = await call("POST", "/vault/secrets", { key: m2m.key, body: { name: "openai_api_key", value: `${CANARY}-openai` } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ success: true, action: "created" });
    expect(created.json.id).toMatch(/^tok_/);

    const got = await call("GET", "/vault/secrets/openai_api_key", { key: m2m.key });
    expect(got.status).toBe(200);
    expect(got.json).toEqual({ name: "openai_api_key", value: `${CANARY}-openai`, scope: [], expiresAt: null });

    const stripe = await call("POST", "/vault/secrets", { key: m2m.key, body: { name: "stripe_secret_key", value: "sk_live_abc", scope: ["payments"], expiresAt: "2099-12-31T23:59:59Z" } });
    expect([stripe.status, stripe.json.action]).toEqual([201, "created"]);

    const list = await call("GET", "/vault/secrets", { key: m2m.key });
    expect(list.status).toBe(200);
    expect(list.json.secrets.map((s: { name: string }) => s.name)).toEqual(["openai_api_key", "stripe_secret_key"]);
    expect(list.json.secrets[0]).toMatchObject({ name: "openai_api_key", scope: [], expiresAt: null, createdAt: expect.any(String) });
    expect(list.text).not.toContain(CANARY);

    const updated = await call("POST", "/vault/secrets", { key: m2m.key, body: { name: "openai_api_key", value: `${CANARY}-openai-2` } });
    expect([updated.status, updated.json]).toEqual([200, { success: true, action: "updated", id: created.json.id }]);
    expect((await call("GET", "/vault/secrets/openai_api_key", { key: m2m.key })).json.value).toBe(`${CANARY}-openai-2`);

    const deleted = await call("DELETE", "/vault/secrets/openai_api_key", { key: m2m.key });
    expect([deleted.status, deleted.json]).toEqual([200, { success: true, action: "deleted" }]);
    expect((await call("GET", "/vault/secrets/openai_api_key", { key: m2m.key })).status).toBe(404);

    const actions = (await auditRows(owner.team.id)).map((r) => r.action);
    for (const action of ["vault.secret.created", "vault.secret.retrieved", "vault.secret.updated", "vault.secret.deleted"]) expect(actions).toContain(action);
    // The value only ever in the revealing responses: never in an audit row or D1 in clear.
    expect(JSON.stringify(await auditRows(owner.team.id))).not.toContain(CANARY);
    const rows = await env.DB.prepare("SELECT * FROM tokens WHERE team_id = ?").bind(owner.team.id).all();
    expect(JSON.stringify(rows.results)).not.toContain(CANARY);
    const retrieved = (await auditRows(owner.team.id)).filter((r) => r.action === "vault.secret.retrieved");
    expect(retrieved.every((r) => r.target_id === created.json.id)).toBe(true);
  });

  it("reveal needs secrets:reveal, never implied: a default key and a key stored before the scope existed cannot reveal", async () => {
    const owner = await proOwner();
    const writer = await keyFor(owner, { scopes: ["secrets:read", "secrets:write"] });
    expect((await call("POST", "/vault/secrets", { key: writer.key, body: { name: "a", value: CANARY } })).status).toBe(201);
    const refused = await call("GET", "/vault/secrets/a", { key: writer.key });
    expect([refused.status, refused.json.code, refused.json.requiredScope]).toEqual([403, "insufficient_scope", "secrets:reveal"]);
    // Keys created without scopes get the default set: everything but secrets:reveal.
    const dflt = await call("POST", `/teams/${owner.team.id}/apikeys`, { headers: { authorization: `Bearer ${owner.token}` }, body: { name: "default" } });
    expect(dflt.json.apiKey.scopes).not.toContain("secrets:reveal");
    expect(dflt.json.apiKey.scopes).toContain("secrets:write");
    expect((await call("GET", "/vault/secrets/a", { key: dflt.json.key })).status).toBe(403);
    // A key row written before this release keeps its scope string: no secrets scope at all.
    const legacy = await env.DB.prepare("SELECT scopes FROM api_keys WHERE team_id = ? ORDER BY id LIMIT 1").bind(owner.team.id).first<{ scopes: string }>();
    expect(legacy?.scopes).not.toContain("secrets:reveal");
  });

  it("scope labels: a labelled secret is revealed only to keys carrying every label", async () => {
    const owner = await proOwner();
    const payments = await keyFor(owner, { labels: ["payments"] });
    const plain = await keyFor(owner);
    await call("POST", "/vault/secrets", { key: payments.key, body: { name: "stripe_secret_key", value: CANARY, scope: ["payments"] } });
    await call("POST", "/vault/secrets/stripe_secret_key/assignments", { key: payments.key, body: { apiKeyId: plain.id } });
    const denied = await call("GET", "/vault/secrets/stripe_secret_key", { key: plain.key });
    expect([denied.status, denied.json.code, denied.json.requiredLabels]).toEqual([403, "access_denied", ["payments"]]);
    expect(denied.text).not.toContain(CANARY);
    const ok = await call("GET", "/vault/secrets/stripe_secret_key", { key: payments.key });
    expect([ok.status, ok.json.value, ok.json.scope]).toEqual([200, CANARY, ["payments"]]);
    // The refused read left no retrieval audit row.
    const retrieved = (await auditRows(owner.team.id)).filter((r) => r.action === "vault.secret.retrieved");
    expect(retrieved.map((r) => r.actor_id)).toEqual([payments.id]);
  });

  it("expiry: 410 on reveal and in tasks, marked in lists, recorded once by the sweeper", async () => {
    const owner = await proOwner();
    const k = await keyFor(owner);
    const created = await call("POST", "/vault/secrets", { key: k.key, body: { name: "old", value: CANARY, expiresAt: "2020-01-01T00:00:00Z" } });
    expect(created.status).toBe(201);
    const got = await call("GET", "/vault/secrets/old", { key: k.key });
    expect([got.status, got.json.code]).toEqual([410, "secret_expired"]);
    expect(got.text).not.toContain(CANARY);
    expect((await call("GET", "/vault/secrets", { key: k.key })).json.secrets[0]).toMatchObject({ name: "old", expired: true });
    const task = await call("POST", "/v1/tasks", { key: k.key, body: { targetUrl: "https://api.example.com/x", method: "GET", headers: { authorization: `Bearer ${created.json.id}` } } });
    expect([task.status, task.json.code]).toEqual([410, "secret_expired"]);
    const { sweepVault } = await import("../src/vault/sweeper");
    await sweepVault(env);
    await sweepVault(env);
    const expired = (await auditRows(owner.team.id)).filter((r) => r.action === "vault.secret.expired");
    expect(expired).toHaveLength(1);
  });
});

describe("named secrets: ownership", () => {
  it("app-level secrets: the creator and the keys it is assigned to; other keys, other teams and users get nothing", async () => {
    const owner = await proOwner();
    const a = await keyFor(owner, { name: "a" });
    const b = await keyFor(owner, { name: "b" });
    const other = await proOwner("other");
    const foreign = await keyFor(other);
    const created = await call("POST", "/vault/secrets", { key: a.key, body: { name: "shared", value: CANARY } });
    const id = created.json.id as string;

    const attempts = [
      await call("GET", "/vault/secrets/shared", { key: b.key }),
      await call("DELETE", "/vault/secrets/shared", { key: b.key }),
      await call("POST", "/vault/secrets/shared/assignments", { key: b.key, body: { apiKeyId: b.id } }),
      await call("GET", "/vault/secrets/shared", { key: foreign.key }),
      await call("DELETE", "/vault/secrets/shared", { key: foreign.key }),
      await call("POST", "/vault/secrets/shared/assignments", { key: a.key, body: { apiKeyId: foreign.id } }),
      await asUser(owner.token, "GET", "/vault/secrets/shared"),
      await asUser(owner.token, "DELETE", "/vault/secrets/shared"),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404, 404, 404, 404, 404]);
    for (const r of attempts) expect(r.text).not.toContain(CANARY);
    expect((await call("GET", "/vault/secrets", { key: b.key })).json.secrets).toEqual([]);
    expect((await asUser(owner.token, "GET", "/vault/secrets")).json.secrets).toEqual([]);
    // B cannot take the name over either.
    const takeover = await call("POST", "/vault/secrets", { key: b.key, body: { name: "shared", value: "other" } });
    expect([takeover.status, takeover.json.code]).toEqual([409, "name_taken"]);
    // Nor use it in a task, nor can another team.
    const taskB = await call("POST", "/v1/tasks", { key: b.key, body: { targetUrl: "https://api.example.com/x", method: "GET", headers: { authorization: `Bearer ${id}` } } });
    expect([taskB.status, taskB.json.code]).toEqual([400, "token_unavailable"]);
    // The tokens view does not manage it.
    expect((await call("DELETE", `/v1/tokens/${id}`, { key: a.key })).status).toBe(404);
    expect((await call("GET", "/v1/tokens", { key: a.key })).json.tokens).toEqual([]);

    // Assigned to B: B reads it and may use it in a task.
    const assigned = await call("POST", "/vault/secrets/shared/assignments", { key: a.key, body: { apiKeyId: b.id } });
    expect([assigned.status, assigned.json]).toEqual([201, { success: true, action: "assigned", apiKeyId: b.id }]);
    expect((await call("GET", "/vault/secrets/shared", { key: b.key })).json.value).toBe(CANARY);
    const unassigned = await call("DELETE", `/vault/secrets/shared/assignments/${b.id}`, { key: a.key });
    expect(unassigned.status).toBe(200);
    expect((await call("GET", "/vault/secrets/shared", { key: b.key })).status).toBe(404);
  });

  it("user-level secrets: only that user; keys never see them; several teams need X-Team-Id", async () => {
    const owner = await proOwner();
    const key = await keyFor(owner);
    const created = await asUser(owner.token, "POST", "/vault/secrets", { name: "my_key", value: CANARY });
    expect([created.status, created.json.action]).toEqual([201, "created"]);
    expect((await asUser(owner.token, "GET", "/vault/secrets/my_key")).json).toEqual({ name: "my_key", value: CANARY, scope: [], expiresAt: null });
    // Same name at app level is another namespace.
    expect((await call("POST", "/vault/secrets", { key: key.key, body: { name: "my_key", value: "app" } })).status).toBe(201);
    expect((await call("GET", "/vault/secrets/my_key", { key: key.key })).json.value).toBe("app");
    const task = await call("POST", "/v1/tasks", { key: key.key, body: { targetUrl: "https://api.example.com/x", method: "GET", headers: { authorization: `Bearer ${created.json.id}` } } });
    expect(task.status).toBe(400);

    // A second user of the same team sees nothing of the first's.
    const invitee = await proOwner("invitee");
    const added = await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: invitee.email, role: "member" });
    expect(added.status).toBe(201);
    const several = await asUser(invitee.token, "GET", "/vault/secrets");
    expect([several.status, several.json.code]).toEqual([400, "team_required"]);
    expect(several.json.teams).toEqual(expect.arrayContaining([owner.team.id, invitee.team.id]));
    const named = await call("GET", "/vault/secrets/my_key", { headers: { authorization: `Bearer ${invitee.token}`, "x-team-id": owner.team.id } });
    expect(named.status).toBe(404);
    const notMine = await call("GET", "/vault/secrets", { headers: { authorization: `Bearer ${owner.token}`, "x-team-id": invitee.team.id } });
    expect([notMine.status, notMine.json.code]).toEqual([403, "access_denied"]);
  });
});
