import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { asUser, createKey, signupUser } from "./helpers/accounts";
import { CANARY } from "./helpers/constants";
import { proOwner } from "./helpers/store";

/** Issue 11 sections 1-3: vaults by slug, the vault auth mode, credentials by KEY, services. */
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function ownerWithKey(scopes?: string[]) {
  const owner = await proOwner("vault");
  const key = await createKey(owner.token, owner.team.id, { name: "vault key", ...(scopes ? { scopes } : {}) });
  expect(key.status).toBe(201);
  return { owner, key: key.json.key as string, keyId: key.json.apiKey.id as string };
}

describe("vaults", () => {
  it("gives a new team a slug from its name, shown in the team views", async () => {
    // signupUser names the team "<label> team".
    const owner = await signupUser("slugtest");
    const teams = await asUser(owner.token, "GET", "/teams");
    expect(teams.json.teams[0].slug).toMatch(/^slugtest-team(-[a-z0-9]{6})?$/);
    const again = await signupUser("slugtest");
    const other = (await asUser(again.token, "GET", "/teams")).json.teams[0].slug;
    expect(other).toMatch(/^slugtest-team-[a-z0-9]{6}$/);
    expect(other).not.toBe(teams.json.teams[0].slug);
  });

  it("lists the caller's vaults and reads one by slug or id", async () => {
    const { owner, key } = await ownerWithKey();
    const mine = await call("GET", "/v1/vaults", { headers: bearer(owner.token) });
    expect(mine.status).toBe(200);
    expect(mine.json.vaults).toEqual([expect.objectContaining({ id: owner.team.id, role: "owner", unmatchedPolicy: "deny" })]);
    const slug = mine.json.vaults[0].slug;
    const byKey = await call("GET", "/v1/vaults", { key });
    expect(byKey.json.vaults.map((v: { id: string }) => v.id)).toEqual([owner.team.id]);
    for (const ref of [slug, owner.team.id]) {
      const one = await call("GET", `/v1/vaults/${ref}`, { key });
      expect([one.status, one.json.vault.id]).toEqual([200, owner.team.id]);
    }
  });

  it("changes the slug (unique, well formed) and the unmatched policy; the old slug stops naming it", async () => {
    const { owner, key } = await ownerWithKey();
    const other = await proOwner("vault-other");
    const otherSlug = (await call("GET", `/v1/vaults/${other.team.id}`, { headers: bearer(other.token) })).json.vault.slug;
    const slug = `renamed-${crypto.randomUUID().slice(0, 8)}`;
    const changed = await call("PATCH", `/v1/vaults/${owner.team.id}`, { key, body: { slug, unmatchedPolicy: "passthrough" } });
    expect(changed.status).toBe(200);
    expect(changed.json.vault).toMatchObject({ slug, unmatchedPolicy: "passthrough" });
    expect((await call("GET", `/v1/vaults/${slug}`, { headers: bearer(owner.token) })).json.vault.id).toBe(owner.team.id);
    const taken = await call("PATCH", `/v1/vaults/${slug}`, { key, body: { slug: otherSlug } });
    expect([taken.status, taken.json.code]).toEqual([409, "slug_taken"]);
    for (const bad of ["ab", "Upper", "a--b", "-ab", "x".repeat(65)]) {
      const res = await call("PATCH", `/v1/vaults/${slug}`, { key, body: { slug: bad } });
      expect([res.status, res.json.code], bad).toEqual([400, "validation_failed"]);
    }
    const audit = await call("GET", "/v1/audit?action=vault.updated", { key });
    expect(audit.json.entries[0].metadata).toMatchObject({ slug, unmatchedPolicy: "passthrough" });
  });

  it("refuses other vaults with 404 vault_not_found, for keys and non-members alike", async () => {
    const a = await ownerWithKey();
    const b = await ownerWithKey();
    const stranger = await signupUser("stranger");
    const paths = [`/v1/vaults/${a.owner.team.id}`, `/v1/vaults/${a.owner.team.id}/credentials`, `/v1/vaults/${a.owner.team.id}/services`, `/v1/vaults/${a.owner.team.id}/logs`, "/v1/vaults/no-such-vault"];
    for (const path of paths) {
      for (const headers of [bearer(b.key), bearer(stranger.token)]) {
        const res = await call("GET", path, { headers });
        expect([res.status, res.json], path).toEqual([404, { error: "Vault not found", code: "vault_not_found" }]);
      }
    }
    const writes = [
      call("POST", `/v1/vaults/${a.owner.team.id}/credentials`, { key: b.key, body: { credentials: { STOLEN: "x" } } }),
      call("PATCH", `/v1/vaults/${a.owner.team.id}`, { key: b.key, body: { unmatchedPolicy: "passthrough" } }),
      call("POST", `/v1/vaults/${a.owner.team.id}/services`, { key: b.key, body: { name: "x", host: "api.example.com", auth: { type: "passthrough" } } }),
      call("POST", `/v1/vaults/${a.owner.team.id}/agent-tokens`, { key: b.key, body: { name: "x", ttl: "1h" } }),
    ];
    for (const res of await Promise.all(writes)) expect(res.status).toBe(404);
    const rows = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM tokens WHERE team_id = ?1) + (SELECT COUNT(*) FROM services WHERE team_id = ?1) AS n").bind(a.owner.team.id).first<{ n: number }>();
    expect(rows?.n).toBe(0);
  });

  it("requires the route's role of members and the route's scope of keys", async () => {
    const { owner } = await ownerWithKey();
    const member = await signupUser("member");
    expect((await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: member.email, role: "member" })).status).toBe(201);
    const patch = await call("PATCH", `/v1/vaults/${owner.team.id}`, { headers: bearer(member.token), body: { unmatchedPolicy: "passthrough" } });
    expect([patch.status, patch.json.code]).toEqual([403, "insufficient_role"]);
    expect((await call("GET", `/v1/vaults/${owner.team.id}`, { headers: bearer(member.token) })).json.vault.role).toBe("member");
    const readOnly = (await createKey(owner.token, owner.team.id, { name: "ro", scopes: ["vault:read"] })).json.key;
    const denied = await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: readOnly, body: { credentials: { A: "1" } } });
    expect([denied.status, denied.json.requiredScope]).toEqual([403, "vault:write"]);
    expect((await call("GET", "/v1/vaults/x")).json.code).toBe("api_key_required");
  });
});

describe("credentials by KEY", () => {
  it("sets several at once, lists without values, reveals for members, overwrites as a new version", async () => {
    const { owner, key } = await ownerWithKey();
    const base = `/v1/vaults/${owner.team.id}/credentials`;
    const set = await call("POST", base, { key, body: { credentials: { STRIPE_KEY: CANARY, B: "second" } } });
    expect(set.status).toBe(200);
    expect(set.text).not.toContain(CANARY);
    expect(set.json.credentials).toEqual([
      { key: "B", id: expect.stringMatching(/^tok_/), type: "static", createdAt: expect.any(String), updatedAt: expect.any(String) },
      { key: "STRIPE_KEY", id: expect.stringMatching(/^tok_/), type: "static", createdAt: expect.any(String), updatedAt: expect.any(String) },
    ]);
    const list = await call("GET", base, { key });
    expect(list.text).not.toContain(CANARY);
    const revealed = await call("GET", `${base}?reveal=true`, { headers: bearer(owner.token) });
    expect(revealed.json.credentials.map((c: { value: string }) => c.value)).toEqual(["second", CANARY]);
    const one = await call("GET", `${base}/STRIPE_KEY`, { headers: bearer(owner.token) });
    expect(one.json.credential).toMatchObject({ key: "STRIPE_KEY", value: CANARY });
    // A standard key without secrets:reveal may list but not reveal.
    const noReveal = await call("GET", `${base}?reveal=true`, { key });
    expect([noReveal.status, noReveal.json.requiredScope]).toEqual([403, "secrets:reveal"]);
    const id = set.json.credentials[1].id;
    await call("POST", base, { key, body: { credentials: { STRIPE_KEY: "rotated-value" } } });
    const row = await env.DB.prepare("SELECT current_version, kind FROM tokens WHERE id = ?").bind(id).first<{ current_version: number; kind: string }>();
    expect(row).toEqual({ current_version: 2, kind: "vault_key" });
    expect((await call("GET", `${base}/STRIPE_KEY`, { headers: bearer(owner.token) })).json.credential.value).toBe("rotated-value");
    const audit = await call("GET", "/v1/audit?action=vault.credential.set", { key });
    expect(audit.json.entries).toHaveLength(3);
    expect(audit.text).not.toContain(CANARY);
    expect(JSON.stringify((await env.DB.prepare("SELECT * FROM audit_log WHERE team_id = ?").bind(owner.team.id).all()).results)).not.toContain(CANARY);
  });

  it("refuses a bad KEY with 400 invalid_credential_key and writes nothing of the batch", async () => {
    const { owner, key } = await ownerWithKey();
    const base = `/v1/vaults/${owner.team.id}/credentials`;
    await call("POST", base, { key, body: { credentials: { KEEP: "old" } } });
    for (const bad of ["lower", "1ABC", "WITH-DASH", "A".repeat(101)]) {
      const res = await call("POST", base, { key, body: { credentials: { KEEP: "new", GOOD: "x", [bad]: "y" } } });
      expect([res.status, res.json.code]).toEqual([400, "invalid_credential_key"]);
    }
    const list = await call("GET", `${base}?reveal=true`, { headers: bearer(owner.token) });
    expect(list.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value])).toEqual([["KEEP", "old"]]);
    const empty = await call("POST", base, { key, body: { credentials: {} } });
    expect([empty.status, empty.json.code]).toEqual([400, "validation_failed"]);
    const badValue = await call("POST", base, { key, body: { credentials: { GOOD: "bad\nvalue" } } });
    expect([badValue.status, badValue.json.code]).toEqual([400, "validation_failed"]);
  });

  it("concurrent multi-sets over one KEY: each writer's whole batch lands or none of it does", async () => {
    const { owner, key } = await ownerWithKey();
    const base = `/v1/vaults/${owner.team.id}/credentials`;
    await call("POST", base, { key, body: { credentials: { SHARED: "v0" } } });
    const writers = Array.from({ length: 6 }, (_, i) => call("POST", base, { key, body: { credentials: { SHARED: `v${i + 1}`, [`ONLY_${i}`]: `mine-${i}` } } }));
    const results = await Promise.all(writers);
    const list = (await call("GET", `${base}?reveal=true`, { headers: bearer(owner.token) })).json.credentials as { key: string; value: string }[];
    const present = new Set(list.map((c) => c.key));
    results.forEach((res, i) => {
      expect([200, 409]).toContain(res.status);
      if (res.status === 409) expect(res.json.code).toBe("version_conflict");
      // A refused writer left nothing behind; an accepted one everything.
      expect(present.has(`ONLY_${i}`)).toBe(res.status === 200);
    });
    expect(results.some((r) => r.status === 200)).toBe(true);
  });

  it("the overwrite guard fails a D1 batch as a whole (the mechanism the multi-set relies on)", async () => {
    const { owner, key } = await ownerWithKey();
    await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key, body: { credentials: { GUARDED: "v" } } });
    const row = await env.DB.prepare("SELECT id, current_version FROM tokens WHERE team_id = ? AND name = 'GUARDED'").bind(owner.team.id).first<{ id: string; current_version: number }>();
    const guard = (version: number) =>
      env.DB.prepare("SELECT json(CASE WHEN EXISTS (SELECT 1 FROM tokens WHERE id = ? AND current_version = ? AND revoked_at IS NULL) THEN '1' ELSE 'version_conflict' END)").bind(row?.id, version);
    const mark = env.DB.prepare("UPDATE tokens SET updated_at = 'guard-test' WHERE id = ?").bind(row?.id);
    await expect(env.DB.batch([guard((row?.current_version ?? 0) + 1), mark])).rejects.toThrow(/malformed JSON/);
    expect((await env.DB.prepare("SELECT updated_at FROM tokens WHERE id = ?").bind(row?.id).first<{ updated_at: string | null }>())?.updated_at).not.toBe("guard-test");
    await env.DB.batch([guard(row?.current_version ?? 0), mark]);
    expect((await env.DB.prepare("SELECT updated_at FROM tokens WHERE id = ?").bind(row?.id).first<{ updated_at: string | null }>())?.updated_at).toBe("guard-test");
  });

  it("deletes a KEY (404 after), and the KEY's tok_ id is the store's", async () => {
    const { owner, key } = await ownerWithKey();
    const base = `/v1/vaults/${owner.team.id}/credentials`;
    await call("POST", base, { key, body: { credentials: { GONE: "value-gone" } } });
    const del = await call("DELETE", `${base}/GONE`, { key });
    expect([del.status, del.json.credential.key]).toEqual([200, "GONE"]);
    expect((await call("DELETE", `${base}/GONE`, { key })).status).toBe(404);
    expect((await call("GET", `${base}/GONE`, { headers: bearer(owner.token) })).status).toBe(404);
    expect((await call("GET", `${base}/bad-key`, { headers: bearer(owner.token) })).json.code).toBe("invalid_credential_key");
    const row = await env.DB.prepare("SELECT ciphertext, revoked_at FROM tokens WHERE team_id = ? AND name = 'GONE'").bind(owner.team.id).first<{ ciphertext: string; revoked_at: string }>();
    expect(row?.ciphertext).toBe("");
  });
});

describe("services", () => {
  async function withKeys() {
    const ctx = await ownerWithKey();
    await call("POST", `/v1/vaults/${ctx.owner.team.id}/credentials`, { key: ctx.key, body: { credentials: { STRIPE_KEY: "sk_test_1", USER: "u", PASS: "p" } } });
    return { ...ctx, base: `/v1/vaults/${ctx.owner.team.id}/services` };
  }

  it("upserts, lists in declaration order, replaces all, deletes", async () => {
    const { key, base } = await withKeys();
    const stripe = await call("POST", base, { key, body: { name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } } });
    expect(stripe.status).toBe(200);
    expect(stripe.json.service).toMatchObject({ name: "stripe", host: "api.stripe.com", enabled: true, auth: { type: "bearer", token: "STRIPE_KEY" } });
    await call("POST", base, { key, body: { name: "gh", host: "*.github.com", auth: { type: "basic", username: "USER", password: "PASS" } } });
    await call("POST", base, { key, body: { name: "stripe", host: "api.stripe.com", enabled: false, auth: { type: "api-key", key: "STRIPE_KEY" } } });
    const list = await call("GET", base, { key });
    expect(list.json.services.map((s: { name: string; enabled: boolean }) => [s.name, s.enabled])).toEqual([["stripe", false], ["gh", true]]);
    expect(list.json.services[0].auth).toEqual({ type: "api-key", key: "STRIPE_KEY", header: "Authorization" });
    const replaced = await call("PUT", base, {
      key,
      body: { services: [{ name: "slack", host: "slack.com/api/*", auth: { type: "custom", headers: { "X-Token": "Bearer {{ STRIPE_KEY }}" } } }, { name: "open", host: "api.example.com:8443", auth: { type: "passthrough" } }] },
    });
    expect(replaced.json.services.map((s: { name: string }) => s.name)).toEqual(["slack", "open"]);
    expect((await call("DELETE", `${base}/slack`, { key })).status).toBe(200);
    expect((await call("DELETE", `${base}/slack`, { key })).status).toBe(404);
    const audit = await call("GET", "/v1/audit?limit=100", { key });
    const actions = audit.json.entries.map((e: { action: string }) => e.action).filter((a: string) => a.startsWith("service."));
    expect(actions.sort()).toEqual(["service.created", "service.created", "service.created", "service.created", "service.deleted", "service.deleted", "service.deleted", "service.updated"]);
  });

  it("refuses bad hosts and unknown KEYs with clear 400s, writing nothing", async () => {
    const { key, base, owner } = await withKeys();
    // (localhost is allowed here: the test pool runs with local development's loopback switch on.)
    for (const host of ["10.0.0.1", "metadata.google.internal", "*", "*.com", "https://api.stripe.com", "foo.internal"]) {
      const res = await call("POST", base, { key, body: { name: "bad", host, auth: { type: "passthrough" } } });
      expect([res.status, res.json.code, res.json.issues?.[0]?.path], host).toEqual([400, "validation_failed", "host"]);
    }
    const missing = await call("POST", base, { key, body: { name: "typo", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KYE" } } });
    expect([missing.status, missing.json]).toEqual([400, { error: expect.stringContaining("STRIPE_KYE"), code: "credential_not_found", keys: ["STRIPE_KYE"] }]);
    const custom = await call("PUT", base, { key, body: { services: [{ name: "c", host: "api.example.com", auth: { type: "custom", headers: { "X-A": "{{ NOPE }} and {{ STRIPE_KEY }}" } } }] } });
    expect([custom.status, custom.json.keys]).toEqual([400, ["NOPE"]]);
    const dupes = await call("PUT", base, { key, body: { services: [{ name: "a", host: "a.example.com", auth: { type: "passthrough" } }, { name: "a", host: "b.example.com", auth: { type: "passthrough" } }] } });
    expect(dupes.status).toBe(400);
    const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM services WHERE team_id = ?").bind(owner.team.id).first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("lets members read but only admins and owners write; deleting a referenced KEY is allowed", async () => {
    const { owner, key, base } = await withKeys();
    const member = await signupUser("svc-member");
    await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: member.email, role: "member" });
    const write = await call("POST", base, { headers: bearer(member.token), body: { name: "x", host: "api.example.com", auth: { type: "passthrough" } } });
    expect([write.status, write.json.code]).toEqual([403, "insufficient_role"]);
    expect((await call("GET", base, { headers: bearer(member.token) })).status).toBe(200);
    await call("POST", base, { key, body: { name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } } });
    expect((await call("DELETE", `/v1/vaults/${owner.team.id}/credentials/STRIPE_KEY`, { key })).status).toBe(200);
    expect((await call("GET", base, { key })).json.services).toHaveLength(1);
  });
});
