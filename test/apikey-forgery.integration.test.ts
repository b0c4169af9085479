/**
 * Issue 9, finding 6: a forged API key must fail before any Durable Object or D1 is touched.
 * Durable Objects are counted by the ids the Workers pool lists as created (objects with
 * storage: the gate creates its tables on first use); D1 lookups by the key service's own
 * counter of the queries it makes. Both are checked to move for a real key first, so a count
 * that stays put means something.
 */
import { env, listDurableObjectIds } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { apiKeyLookups } from "../src/auth/apikeys";
import { ApiKeyConfigError, hasValidChecksum, newApiKeyString } from "../src/auth/key-format";
import { DEFAULT_LEGACY_CUTOFF, legacyCutoff, LEGACY_LOOKUPS_PER_MINUTE, mayBeLegacyKey } from "../src/auth/legacy-keys";
import { sha256Hex } from "../src/encoding";
import { call, newTeam } from "./helpers/api";
import { idBodyAt, randomKeyTail } from "./helpers/keys";

const INVALID = { error: "Invalid or revoked API key", code: "invalid_api_key" };
const CUTOFF = Date.parse(DEFAULT_LEGACY_CUTOFF);

async function gateIds(): Promise<Set<string>> {
  return new Set((await listDurableObjectIds(env.TEAM_GATE)).map((id) => id.toString()));
}
const gateIdOf = (teamId: string) => env.TEAM_GATE.idFromName(teamId).toString();

describe("API key checksum (format)", () => {
  it("keeps the scanner-visible shape and verifies issued keys statelessly", async () => {
    const secretEnv = { API_KEY_SECRET: env.API_KEY_SECRET };
    const key = await newApiKeyString(secretEnv, "team_01m8552zst1fvdqksckgsmrqrt");
    expect(key).toMatch(/^tvk_[0-9a-z]{26}[0-9A-Za-z]{49}$/);
    expect(await hasValidChecksum(secretEnv, key)).toBe(true);
    // Any change to the random part or to the checksum breaks it.
    for (const at of [30, 50, 72, 73, 78]) {
      const c = key[at] === "A" ? "B" : "A";
      expect(await hasValidChecksum(secretEnv, key.slice(0, at) + c + key.slice(at + 1))).toBe(false);
    }
    // Another secret, or none, verifies nothing.
    expect(await hasValidChecksum({ API_KEY_SECRET: "ab".repeat(32) }, key)).toBe(false);
    expect(await hasValidChecksum({}, key)).toBe(false);
  });

  it("refuses to issue keys without a well-formed API_KEY_SECRET", async () => {
    await expect(newApiKeyString({}, "team_01m8552zst1fvdqksckgsmrqrt")).rejects.toBeInstanceOf(ApiKeyConfigError);
    await expect(newApiKeyString({ API_KEY_SECRET: "too-short" }, "team_01m8552zst1fvdqksckgsmrqrt")).rejects.toThrow(/API_KEY_SECRET must be 32 random bytes/);
  });

  it("treats a key as possibly legacy only when its team predates the cut-off", () => {
    const old = `tvk_${idBodyAt(CUTOFF - 86_400_000)}${randomKeyTail()}`;
    const recent = `tvk_${idBodyAt(CUTOFF + 1)}${randomKeyTail()}`;
    expect(mayBeLegacyKey({}, old)).toBe(true);
    expect(mayBeLegacyKey({}, recent)).toBe(false);
    expect(mayBeLegacyKey({ LEGACY_API_KEYS_BEFORE: "none" }, old)).toBe(false);
    expect(mayBeLegacyKey({ LEGACY_API_KEYS_BEFORE: new Date(CUTOFF + 60_000).toISOString() }, recent)).toBe(true);
    expect(() => legacyCutoff({ LEGACY_API_KEYS_BEFORE: "yesterday" })).toThrow(ApiKeyConfigError);
  });
});

describe("forged API keys", () => {
  it("100 forged keys create no Durable Object and make no D1 lookup", async () => {
    const victim = await newTeam("pro");
    // Positive control: a real key's first request reaches the gate and D1.
    const control = await newTeam("pro");
    const lookupsBefore = apiKeyLookups.d1;
    expect((await call("GET", "/v1/tokens", { key: control.key })).status).toBe(200);
    expect(apiKeyLookups.d1).toBe(lookupsBefore + 1);
    expect((await gateIds()).has(gateIdOf(control.team.id))).toBe(true);

    const before = apiKeyLookups.d1;
    const forgedTeams: string[] = [];
    const forged: string[] = [];
    for (let i = 0; i < 50; i++) {
      // A random team part, as a scanner or fuzzer would send...
      const body = idBodyAt(Date.now());
      forgedTeams.push(`team_${body}`);
      forged.push(`tvk_${body}${randomKeyTail()}`);
      // ...and a real team's part with a guessed secret part.
      forged.push(`tvk_${victim.team.id.slice(5)}${randomKeyTail()}`);
    }
    // The victim's own key with its checksum altered.
    forged[0] = victim.key.slice(0, 78) + (victim.key[78] === "A" ? "B" : "A");
    for (const key of forged) {
      const res = await call("GET", "/v1/tokens", { key });
      expect(res.status).toBe(401);
      expect(res.json).toEqual(INVALID);
    }
    expect(apiKeyLookups.d1).toBe(before);
    const ids = await gateIds();
    for (const teamId of [...forgedTeams, victim.team.id]) expect(ids.has(gateIdOf(teamId))).toBe(false);
  });
});

describe("keys issued before checksums", () => {
  /** A team created before the cut-off with a key in the old format (49 random characters). */
  async function legacyTeam() {
    const teamId = `team_${idBodyAt(CUTOFF - 30 * 86_400_000)}`;
    const key = `tvk_${teamId.slice(5)}${randomKeyTail()}`;
    const at = new Date(CUTOFF - 30 * 86_400_000).toISOString();
    const keyId = `key_${idBodyAt(CUTOFF - 30 * 86_400_000)}`;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO teams (id, name, plan, key_salt, created_at) VALUES (?, 'legacy', 'pro', ?, ?)").bind(teamId, btoa("s".repeat(32)), at),
      env.DB.prepare("INSERT INTO api_keys (id, team_id, name, key_hash, prefix, scopes, created_at) VALUES (?, ?, 'old', ?, ?, ?, ?)").bind(
        keyId,
        teamId,
        await sha256Hex(key),
        key.slice(0, 34),
        "tokens:read tokens:write tasks:read tasks:write audit:read",
        at,
      ),
    ]);
    return { teamId, key, keyId };
  }

  it("keep working, and their revocation still takes effect on the next request", async () => {
    const legacy = await legacyTeam();
    expect(await hasValidChecksum({ API_KEY_SECRET: env.API_KEY_SECRET }, legacy.key)).toBe(false);
    for (let i = 0; i < 3; i++) expect((await call("GET", "/v1/tokens", { key: legacy.key })).status).toBe(200);
    await call("POST", `/admin/apikeys/${legacy.keyId}/revoke`, { admin: true });
    const res = await call("GET", "/v1/tokens", { key: legacy.key });
    expect(res.status).toBe(401);
    expect(res.json).toEqual(INVALID);
  });

  it("are looked up within a per-isolate budget: forgeries naming old teams cannot make lookups without limit", async () => {
    const known = await legacyTeam();
    // A legacy key that authenticated once keeps passing when the budget is spent.
    expect((await call("GET", "/v1/tokens", { key: known.key })).status).toBe(200);
    const before = apiKeyLookups.d1;
    const teams: string[] = [];
    const attempts = LEGACY_LOOKUPS_PER_MINUTE + 40;
    for (let i = 0; i < attempts; i++) {
      const body = idBodyAt(CUTOFF - 1000 * (i + 1));
      teams.push(`team_${body}`);
      const res = await call("GET", "/v1/tokens", { key: `tvk_${body}${randomKeyTail()}` });
      expect(res.json).toEqual(INVALID);
    }
    expect(apiKeyLookups.d1 - before).toBeLessThanOrEqual(LEGACY_LOOKUPS_PER_MINUTE);
    const ids = await gateIds();
    expect(teams.filter((t) => ids.has(gateIdOf(t))).length).toBeLessThanOrEqual(LEGACY_LOOKUPS_PER_MINUTE);
    expect((await call("GET", "/v1/tokens", { key: known.key })).status).toBe(200);
  });
});
