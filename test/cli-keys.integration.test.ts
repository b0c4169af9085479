import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_SCOPES } from "../src/auth/scopes";
import { MEMBER_CLI_SCOPES } from "../src/teams/cli-keys";
import { MAX_ACTIVE_AGENT_TOKENS } from "../src/teams/teams";
import { call } from "./helpers/api";
import { asUser, createKey, signupUser, type SignedUp } from "./helpers/accounts";
import { auditRows, proOwner } from "./helpers/store";

/** POST /v1/vaults/:vault/cli-keys: a signed-in person's short-lived key for the API-key routes. */
const mint = (token: string, vault: string, body: Record<string, unknown> = {}) => asUser(token, "POST", `/v1/vaults/${vault}/cli-keys`, body);

async function withMember(owner: SignedUp, role: "admin" | "member"): Promise<SignedUp> {
  const user = await signupUser(`cli-${role}`);
  const added = await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: user.email, role });
  expect(added.status, added.text).toBeLessThan(300);
  return user;
}

describe("CLI keys", () => {
  it("carry the scopes of the caller's role, never secrets:reveal, and last 5 minutes by default", async () => {
    const owner = await proOwner("cli-scopes");
    const admin = await withMember(owner, "admin");
    const member = await withMember(owner, "member");
    const vault = owner.team.id;
    for (const [who, expected] of [
      [owner, DEFAULT_SCOPES],
      [admin, DEFAULT_SCOPES],
      [member, MEMBER_CLI_SCOPES],
    ] as const) {
      const before = Date.now();
      const res = await mint(who.token, vault);
      expect(res.status, res.text).toBe(201);
      expect(res.json).toMatchObject({ apiKey: { role: "standard", scopes: [...expected] }, key: expect.stringMatching(/^tvk_/) });
      expect(res.json.apiKey.scopes).not.toContain("secrets:reveal");
      const expires = Date.parse(res.json.expiresAt);
      expect(expires).toBeGreaterThanOrEqual(before + 300_000 - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 300_000 + 1000);
      // It works on the API-key routes, within its scopes.
      expect((await call("GET", "/v1/tokens", { key: res.json.key })).status).toBe(200);
      expect((await call("GET", "/v1/audit", { key: res.json.key })).status).toBe(200);
      const write = await call("POST", "/v1/tokens", { key: res.json.key, body: { name: "t", value: "v" } });
      expect(write.status, who === member ? "member" : "admin/owner").toBe(who === member ? 403 : 201);
    }
    const memberKey = (await mint(member.token, vault)).json.key;
    expect((await call("GET", `/v1/vaults/${vault}/credentials?reveal=true`, { key: memberKey })).json.code).toBe("insufficient_scope");
    expect(MEMBER_CLI_SCOPES).toEqual(["tokens:read", "tasks:read", "audit:read", "secrets:read", "vault:read"]);
  });

  it("take a ttl of 5 minutes to 1 hour", async () => {
    const owner = await proOwner("cli-ttl");
    for (const ttl of ["4m", 299, "61m", 3601, "2h", "soon", 0, -5]) {
      const res = await mint(owner.token, owner.team.id, { ttl });
      expect([res.status, res.json.code], String(ttl)).toEqual([400, "validation_failed"]);
    }
    for (const ttl of ["5m", 300, "1h", 3600]) {
      const before = Date.now();
      const res = await mint(owner.token, owner.team.id, { ttl });
      expect(res.status, String(ttl)).toBe(201);
      const seconds = typeof ttl === "number" ? ttl : ttl === "5m" ? 300 : 3600;
      expect(Date.parse(res.json.expiresAt)).toBeGreaterThanOrEqual(before + seconds * 1000 - 1000);
    }
    expect((await mint(owner.token, owner.team.id, { ttl: "1h", name: "x" })).status).toBe(400);
  });

  it("are refused once expired, cached in the team's gate or not", async () => {
    const owner = await proOwner("cli-expiry");
    const res = await mint(owner.token, owner.team.id);
    expect(res.status).toBe(201);
    // Its expiry brought forward to 1.5 s from now (the least ttl is 5 minutes), before its first use.
    await env.DB.prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() + 1500).toISOString(), res.json.apiKey.id).run();
    expect((await call("GET", "/v1/tokens", { key: res.json.key })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    for (const path of ["/v1/tokens", "/v1/audit", `/v1/vaults/${owner.team.id}`]) {
      const refused = await call("GET", path, { key: res.json.key });
      expect([refused.status, refused.json], path).toEqual([401, { error: "Invalid or revoked API key", code: "invalid_api_key" }]);
    }
  });

  it("are not the plan's API keys: a Free team at its key limit mints them, within a bound of 100", async () => {
    const owner = await signupUser("cli-free");
    let created = 0;
    let refused = await createKey(owner.token, owner.team.id, { name: "fill" });
    while (refused.status === 201 && created < 3) {
      created += 1;
      refused = await createKey(owner.token, owner.team.id, { name: `fill ${created}` });
    }
    expect([refused.status, refused.json.code]).toEqual([403, "plan_limit_reached"]);
    const minted = await mint(owner.token, owner.team.id);
    expect([minted.status, minted.json.apiKey?.role]).toEqual([201, "standard"]);
    expect((await createKey(owner.token, owner.team.id, { name: "still refused" })).status).toBe(403);

    // Fill the bound with unexpired CLI keys (as minting writes them), then one more is refused.
    const expiresAt = new Date(Date.now() + 300_000).toISOString();
    const at = new Date().toISOString();
    const fill = Array.from({ length: MAX_ACTIVE_AGENT_TOKENS - 1 }, (_, i) =>
      env.DB.prepare("INSERT INTO api_keys (id, team_id, name, key_hash, prefix, scopes, created_at, role, expires_at) VALUES (?, ?, 'fill', ?, 'tvk_x', 'tokens:read', ?, 'standard', ?)").bind(
        `key_fill_${owner.team.id}_${i}`,
        owner.team.id,
        `hash-${owner.team.id}-${i}`,
        at,
        expiresAt,
      ),
    );
    await env.DB.batch(fill);
    const over = await mint(owner.token, owner.team.id);
    expect([over.status, over.json.code, over.json.limit]).toEqual([403, "plan_limit_reached", 100]);
    expect(over.json.error).toContain("active CLI keys");
    // Agent tokens keep their own bound.
    const agent = await asUser(owner.token, "POST", `/v1/vaults/${owner.team.id}/agent-tokens`, { name: "agent", ttl: "5m" });
    expect(agent.status, agent.text).toBe(201);
  });

  it("are for user sessions only: no API key, agent or CLI key mints one", async () => {
    const owner = await proOwner("cli-keys-only-users");
    const vault = owner.team.id;
    const standard = (await createKey(owner.token, vault, { name: "full" })).json.key;
    const agent = (await createKey(owner.token, vault, { name: "agent", role: "agent" })).json.key;
    const cliKey = (await mint(owner.token, vault)).json.key;
    for (const key of [standard, cliKey]) {
      const res = await call("POST", `/v1/vaults/${vault}/cli-keys`, { key, body: {} });
      expect([res.status, res.json.code]).toEqual([403, "access_denied"]);
      expect(res.text).not.toContain("tvk_");
    }
    const byAgent = await call("POST", `/v1/vaults/${vault}/cli-keys`, { key: agent, body: {} });
    expect(byAgent.status).toBe(403);
    // A user of another team cannot mint for this vault.
    const stranger = await signupUser("cli-stranger");
    const foreign = await mint(stranger.token, vault);
    expect(foreign.status).toBe(404);
    expect(foreign.json.key).toBeUndefined();
  });

  it("are audited as cli_key.created by the user, the key never in the row", async () => {
    const owner = await proOwner("cli-audit");
    const res = await mint(owner.token, owner.team.id, { ttl: "10m" });
    expect(res.status).toBe(201);
    const rows = await auditRows(owner.team.id);
    const row = rows.find((r) => r.action === "cli_key.created");
    expect(row).toMatchObject({ actor_type: "user", actor_id: owner.user.id, target_id: res.json.apiKey.id });
    expect(JSON.stringify(rows)).not.toContain(res.json.key);
  });
});
