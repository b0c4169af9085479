import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { call, newTeam, newToken } from "./helpers/api";
import { CANARY } from "./helpers/constants";

describe("token vault API (seed 000)", () => {
  it("stores a credential and returns only its reference", async () => {
    const team = await newTeam();
    const res = await call("POST", "/v1/tokens", { key: team.key, body: { name: "fal.ai Production Key", value: CANARY } });
    expect(res.status).toBe(201);
    expect(res.json).toEqual({ token: { id: expect.stringMatching(/^tok_[0-9a-z]{26}$/), name: "fal.ai Production Key", createdAt: expect.any(String) } });
    expect(new Date(res.json.token.createdAt).toISOString()).toBe(res.json.token.createdAt);
    expect(res.text).not.toContain(CANARY);
  });

  it("lists active tokens' metadata, newest first, paginated", async () => {
    const team = await newTeam();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await newToken(team.key, `${CANARY}-${i}`, `token ${i}`));
    const all = await call("GET", "/v1/tokens", { key: team.key });
    expect(all.status).toBe(200);
    expect(all.json.tokens.map((t: { id: string }) => t.id)).toEqual([...ids].reverse());
    expect(all.json.pagination).toEqual({ total: 5, limit: 50, offset: 0, hasMore: false, nextCursor: null });
    expect(all.text).not.toContain(CANARY);
    for (const t of all.json.tokens) expect(Object.keys(t).sort()).toEqual(["createdAt", "id", "name"]);

    const page1 = await call("GET", "/v1/tokens?limit=2", { key: team.key });
    expect(page1.json.tokens).toHaveLength(2);
    expect(page1.json.pagination).toMatchObject({ total: 5, limit: 2, hasMore: true, nextCursor: ids[3] });
    const page2 = await call("GET", `/v1/tokens?limit=2&cursor=${page1.json.pagination.nextCursor}`, { key: team.key });
    expect(page2.json.tokens.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[1]]);
    const byOffset = await call("GET", "/v1/tokens?limit=2&offset=4", { key: team.key });
    expect(byOffset.json.tokens.map((t: { id: string }) => t.id)).toEqual([ids[0]]);
    expect(byOffset.json.pagination.hasMore).toBe(false);
  });

  it("gets metadata, revokes immediately and for good", async () => {
    const team = await newTeam();
    const id = await newToken(team.key, CANARY);
    const got = await call("GET", `/v1/tokens/${id}`, { key: team.key });
    expect(got.json).toEqual({ token: { id, name: "test token", createdAt: expect.any(String) } });

    const revoked = await call("DELETE", `/v1/tokens/${id}`, { key: team.key });
    expect(revoked.status).toBe(200);
    expect(revoked.json.token).toEqual({ id, name: "test token", createdAt: got.json.token.createdAt, revokedAt: expect.any(String) });
    expect((await call("GET", "/v1/tokens", { key: team.key })).json.tokens).toEqual([]);
    expect((await call("GET", `/v1/tokens/${id}`, { key: team.key })).json.token.revokedAt).toBe(revoked.json.token.revokedAt);

    // Revoking again changes nothing; the ciphertext is gone, so nothing can bring it back.
    const again = await call("DELETE", `/v1/tokens/${id}`, { key: team.key });
    expect(again.json.token.revokedAt).toBe(revoked.json.token.revokedAt);
    const row = await env.DB.prepare("SELECT ciphertext, iv FROM tokens WHERE id = ?").bind(id).first();
    expect(row).toEqual({ ciphertext: "", iv: "" });
  });

  it("answers 403 Access denied for another team's token, 404 for an unknown one", async () => {
    const a = await newTeam();
    const b = await newTeam();
    const id = await newToken(a.key, CANARY);
    for (const method of ["GET", "DELETE"]) {
      const res = await call(method, `/v1/tokens/${id}`, { key: b.key });
      expect(res.status).toBe(403);
      expect(res.json).toEqual({ error: "Access denied", code: "access_denied" });
    }
    expect((await call("GET", `/v1/tokens/${id}`, { key: a.key })).json.token.revokedAt).toBeUndefined();
    const unknown = await call("GET", "/v1/tokens/tok_01jrx7m2k0000000000000000a", { key: a.key });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ error: "Token not found", code: "not_found" });
    expect((await call("GET", "/v1/tokens", { key: b.key })).json.tokens).toEqual([]);
  });

  it("validates names and values with field paths", async () => {
    const team = await newTeam();
    const cases: [unknown, string][] = [
      [{ name: "", value: "x" }, "body.name"],
      [{ name: "   ", value: "x" }, "body.name"],
      [{ name: "n".repeat(101), value: "x" }, "body.name"],
      [{ name: "ok", value: "" }, "body.value"],
      [{ name: "ok" }, "body.value"],
      [{ name: "ok", value: 42 }, "body.value"],
      [{ name: "ok", value: "x".repeat(64 * 1024 + 1) }, "body.value"],
      [{ name: "ok", value: "é".repeat(40 * 1024) }, "body.value"],
      [{ name: "ok", value: "abc\ud800def" }, "body.value"],
      [{ name: "a\u0000b", value: "x" }, "body.name"],
      [{ name: "ok", value: "x", scope: ["a"] }, "body"],
      [[], "body"],
      ['"just a string"', "body"],
    ];
    for (const [body, path] of cases) {
      const res = await call("POST", "/v1/tokens", { key: team.key, body });
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.json.error).toBe("Invalid request body");
      expect(res.json.issues.map((i: { path: string }) => i.path)).toContain(path);
    }
    expect((await call("POST", "/v1/tokens", { key: team.key, body: { name: "n".repeat(100), value: "x".repeat(64 * 1024) } })).status).toBe(201);
    expect((await call("GET", "/v1/tokens", { key: team.key })).json.tokens).toHaveLength(1);
  });

  it("validates ids and paging parameters", async () => {
    const team = await newTeam();
    for (const path of ["/v1/tokens/abc", "/v1/tokens/tok_UPPER0000000000000000000000", "/v1/tokens?limit=0", "/v1/tokens?limit=101", "/v1/tokens?offset=-1", "/v1/tokens?limit=abc"]) {
      const res = await call("GET", path, { key: team.key });
      expect(res.status, path).toBe(400);
      expect(res.json.issues[0].path).toMatch(/^(params|query)\./);
    }
  });

  it("audits create and revoke in the same batch, with actor and request id", async () => {
    const team = await newTeam();
    const created = await call("POST", "/v1/tokens", { key: team.key, body: { name: "audited", value: CANARY } });
    const id = created.json.token.id;
    await call("DELETE", `/v1/tokens/${id}`, { key: team.key });
    await call("DELETE", `/v1/tokens/${id}`, { key: team.key });
    const audit = await call("GET", `/v1/audit?targetId=${id}`, { key: team.key });
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(["token.revoked", "token.created"]);
    expect(audit.json.entries[1]).toMatchObject({
      actor: { type: "api_key", id: team.apiKey.id },
      target: { type: "token", id },
      requestId: created.headers.get("x-request-id"),
      metadata: { name: "audited", keyVersion: 1 },
    });
    expect(audit.text).not.toContain(CANARY);
    const filtered = await call("GET", "/v1/audit?action=team.created", { key: team.key });
    expect(filtered.json.entries).toHaveLength(1);
    expect(filtered.json.entries[0].actor).toEqual({ type: "admin", id: "admin" });
    const paged = await call("GET", "/v1/audit?limit=1", { key: team.key });
    expect(paged.json.pagination).toMatchObject({ total: 4, hasMore: true });
    expect((await call("GET", "/v1/audit?action=nope", { key: team.key })).status).toBe(400);
    const other = await newTeam();
    expect((await call("GET", `/v1/audit?targetId=${id}`, { key: other.key })).json.entries).toEqual([]);
  });
});

describe("storage never holds a secret", () => {
  it("keeps only ciphertext in D1 and no secret in any row of any table", async () => {
    const team = await newTeam();
    const id = await newToken(team.key, CANARY);
    const row = await env.DB.prepare("SELECT * FROM tokens WHERE id = ?").bind(id).first<Record<string, unknown>>();
    expect(row?.key_version).toBe(1);
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toEqual(expect.arrayContaining(["teams", "api_keys", "tokens", "audit_log"]));
    for (const { name } of tables.results) {
      const { results } = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
      const dump = JSON.stringify(results);
      expect(dump, name).not.toContain(CANARY);
      expect(dump, name).not.toContain(team.key);
    }
  });
});
