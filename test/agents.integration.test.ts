import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { generateApiKey, insertApiKeyStatement } from "../src/auth/apikeys";
import { AGENT_SCOPES } from "../src/auth/scopes";
import { routes } from "../src/routes";
import { call } from "./helpers/api";
import { asUser, createKey, signupUser } from "./helpers/accounts";
import { samplePath } from "./helpers/auth-cases";
import { proOwner } from "./helpers/store";

/** Issue 11 section 5: agents use, never read. */
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Whether a zod schema's JSON Schema has a property named `value` anywhere. */
function carriesValue(schema: z.ZodType): boolean {
  const walk = (node: unknown): boolean => {
    if (!node || typeof node !== "object") return false;
    if (Array.isArray(node)) return node.some(walk);
    const obj = node as Record<string, unknown>;
    if (obj.properties && typeof obj.properties === "object" && "value" in (obj.properties as object)) return true;
    return Object.values(obj).some(walk);
  };
  return walk(z.toJSONSchema(schema, { io: "output", unrepresentable: "any" }));
}

async function vaultWithAgent() {
  const owner = await proOwner("agent");
  const setter = await createKey(owner.token, owner.team.id, { name: "setter" });
  await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: setter.json.key, body: { credentials: { SECRET_KEY: "agent-must-not-see-this" } } });
  const agent = await createKey(owner.token, owner.team.id, { name: "agent", role: "agent" });
  expect(agent.status).toBe(201);
  expect(agent.json.apiKey).toMatchObject({ role: "agent", scopes: [...AGENT_SCOPES], expiresAt: null });
  return { owner, agentKey: agent.json.key as string };
}

describe("the route table marks every value-revealing route", () => {
  it("marks each route whose response carries a value, and every secrets:reveal route", () => {
    const unmarked = routes
      .filter((r) => r.scope === "secrets:reveal" || Object.values(r.responses).some((spec) => spec.schema && carriesValue(spec.schema)))
      .filter((r) => !r.reveals)
      .map((r) => `${r.method} ${r.path}`);
    expect(unmarked).toEqual([]);
    // The check above sees the known revealing routes (so it cannot pass by seeing none).
    expect(routes.filter((r) => r.reveals).map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(["GET /vault/secrets/:name", "POST /v1/leases", "GET /v1/vaults/:vault/credentials", "GET /v1/vaults/:vault/credentials/:key"]),
    );
  });
});

describe("agent keys", () => {
  it("answer 403 access_denied on every value-revealing route of the table", async () => {
    const { owner, agentKey } = await vaultWithAgent();
    const revealing = routes.filter((r) => r.reveals);
    expect(revealing.length).toBeGreaterThanOrEqual(6);
    for (const route of revealing) {
      const path = samplePath(route).replace(":vault", owner.team.id).replace(":key", "SECRET_KEY");
      const query = route.reveals === true ? "" : `?${route.reveals!.query}=true`;
      const res = await call(route.method, path + query, { key: agentKey, body: route.body ? {} : undefined });
      expect([res.status, res.json], `${route.method} ${route.path}`).toEqual([403, { error: "Access denied", code: "access_denied" }]);
      expect(res.text).not.toContain("agent-must-not-see-this");
    }
  });

  it("list KEYs (no values) and services, and cannot write or mint", async () => {
    const { owner, agentKey } = await vaultWithAgent();
    const list = await call("GET", `/v1/vaults/${owner.team.id}/credentials`, { key: agentKey });
    expect([list.status, list.json.credentials.map((c: { key: string }) => c.key)]).toEqual([200, ["SECRET_KEY"]]);
    expect(list.text).not.toContain("agent-must-not-see-this");
    expect((await call("GET", `/v1/vaults/${owner.team.id}/services`, { key: agentKey })).status).toBe(200);
    const write = await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: agentKey, body: { credentials: { X: "1" } } });
    expect([write.status, write.json.code]).toEqual([403, "insufficient_scope"]);
    const mint = await call("POST", `/v1/vaults/${owner.team.id}/agent-tokens`, { key: agentKey, body: { name: "x", ttl: "1h" } });
    expect(mint.status).toBe(403);
  });

  it("cannot be created with a scope beyond the agent scopes", async () => {
    const owner = await proOwner("agent-scopes");
    const res = await createKey(owner.token, owner.team.id, { name: "agent", role: "agent", scopes: ["proxy:use", "secrets:reveal"] });
    expect([res.status, res.json.code]).toEqual([400, "validation_failed"]);
    const admin = await call("POST", `/admin/teams/${owner.team.id}/apikeys`, { admin: true, body: { name: "agent", role: "agent" } });
    expect([admin.status, admin.json.apiKey.role]).toEqual([201, "agent"]);
  });
});

describe("agent tokens", () => {
  it("members mint them with a ttl of 5 minutes to 7 days; the key is shown once", async () => {
    const owner = await proOwner("agent-tokens");
    const member = await signupUser("agent-member");
    await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: member.email, role: "member" });
    const path = `/v1/vaults/${owner.team.id}/agent-tokens`;
    const before = Date.now();
    const minted = await call("POST", path, { headers: bearer(member.token), body: { name: "ci agent", ttl: "1h" } });
    expect(minted.status).toBe(201);
    expect(minted.json).toMatchObject({ apiKey: { name: "ci agent", role: "agent", scopes: [...AGENT_SCOPES] }, key: expect.stringMatching(/^tvk_/) });
    const expires = Date.parse(minted.json.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 3600_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/services`, { key: minted.json.key })).status).toBe(200);
    for (const ttl of ["4m", 299, "8d", 604801, "soon", 0]) {
      const res = await call("POST", path, { headers: bearer(member.token), body: { name: "x", ttl } });
      expect([res.status, res.json.code], String(ttl)).toEqual([400, "validation_failed"]);
    }
    expect((await call("POST", path, { headers: bearer(member.token), body: { name: "max", ttl: 604800 } })).status).toBe(201);
    const audit = await call("GET", `/v1/audit?action=agent_token.created`, { key: (await createKey(owner.token, owner.team.id, { name: "auditor" })).json.key });
    expect(audit.json.entries[0]).toMatchObject({ actor: { type: "user", id: member.user.id } });
  });

  it("are not the plan's API keys: a Free team at its key limit still mints them, within their own bound", async () => {
    const owner = await signupUser("free-agent");
    // Fill the Free plan's key limit (1), whether or not signup made a key.
    let created = 0;
    let refused = await createKey(owner.token, owner.team.id, { name: "fill" });
    while (refused.status === 201 && created < 3) {
      created += 1;
      refused = await createKey(owner.token, owner.team.id, { name: `fill ${created}` });
    }
    expect([refused.status, refused.json.code]).toEqual([403, "plan_limit_reached"]);
    const minted = await call("POST", `/v1/vaults/${owner.team.id}/agent-tokens`, { headers: bearer(owner.token), body: { name: "agent", ttl: "5m" } });
    expect([minted.status, minted.json.apiKey.role]).toEqual([201, "agent"]);
    // The agent token took no standard key's place, and the standard limit still holds.
    expect((await createKey(owner.token, owner.team.id, { name: "still refused" })).status).toBe(403);
  });

  it("an expired agent token is refused everywhere, cached in the team's gate or not", async () => {
    const owner = await proOwner("agent-expiry");
    // A token that ends 1.5 s from now (minting takes at least 5 minutes): written as minting writes it.
    const apiKey = await generateApiKey(env, owner.team.id);
    const at = new Date().toISOString();
    await env.DB.batch([
      insertApiKeyStatement(env.DB, owner.team.id, "short", apiKey, at, AGENT_SCOPES, null),
      env.DB.prepare("UPDATE api_keys SET role = 'agent', expires_at = ? WHERE id = ?").bind(new Date(Date.now() + 1500).toISOString(), apiKey.id),
    ]);
    // Admitted while valid, so the team's gate has it cached.
    expect((await call("GET", `/v1/vaults/${owner.team.id}/services`, { key: apiKey.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    for (const path of ["/v1/vaults", `/v1/vaults/${owner.team.id}/services`, `/v1/vaults/${owner.team.id}/credentials`]) {
      const res = await call("GET", path, { key: apiKey.key });
      expect([res.status, res.json], path).toEqual([401, { error: "Invalid or revoked API key", code: "invalid_api_key" }]);
    }
    // And one already expired when first seen (not cached).
    const past = await generateApiKey(env, owner.team.id);
    await env.DB.batch([
      insertApiKeyStatement(env.DB, owner.team.id, "past", past, at, AGENT_SCOPES, null),
      env.DB.prepare("UPDATE api_keys SET role = 'agent', expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), past.id),
    ]);
    expect((await call("GET", "/v1/vaults", { key: past.key })).status).toBe(401);
  });
});
