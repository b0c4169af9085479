import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike } from "../src/client";
import { newId } from "../src/ids";
import { proOwner } from "./helpers/store";

/** The typed client's vault methods (issue 11), inside workerd against this Worker. */
const selfFetch: FetchLike = (url, init) => SELF.fetch(url, init);

describe("client: vaults", () => {
  it("covers vaults, KEY credentials, services, agent tokens and the log", async () => {
    const owner = await proOwner("client-vaults");
    const user = new Vault({ baseUrl: "https://vault.test", sessionToken: owner.token, fetch: selfFetch });
    const [mine] = await user.vaults.list();
    expect(mine).toMatchObject({ id: owner.team.id, role: "owner", unmatchedPolicy: "deny" });
    const slug = `client-${crypto.randomUUID().slice(0, 8)}`;
    expect((await user.vaults.update(owner.team.id, { slug, unmatchedPolicy: "passthrough" })).slug).toBe(slug);
    expect((await user.vaults.get(slug)).unmatchedPolicy).toBe("passthrough");

    const set = await user.vaults.credentials.set(slug, { STRIPE_KEY: "sk_client_1", OTHER: "o" });
    expect(set.map((c) => c.key)).toEqual(["OTHER", "STRIPE_KEY"]);
    expect((await user.vaults.credentials.list(slug)).every((c) => c.value === undefined)).toBe(true);
    expect((await user.vaults.credentials.list(slug, { reveal: true })).map((c) => c.value)).toEqual(["o", "sk_client_1"]);
    expect((await user.vaults.credentials.get(slug, "STRIPE_KEY")).value).toBe("sk_client_1");
    expect((await user.vaults.credentials.delete(slug, "OTHER")).key).toBe("OTHER");

    const svc = await user.vaults.services.upsert(slug, { name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } });
    expect(svc).toMatchObject({ name: "stripe", enabled: true });
    expect((await user.vaults.services.replace(slug, [{ name: "a", host: "a.example.com", auth: { type: "passthrough" } }])).map((s) => s.name)).toEqual(["a"]);
    expect((await user.vaults.services.list(slug)).map((s) => s.name)).toEqual(["a"]);
    expect((await user.vaults.services.delete(slug, "a")).name).toBe("a");
    const missing = await user.vaults.services.upsert(slug, { name: "b", host: "b.example.com", auth: { type: "bearer", token: "NOPE" } }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(VaultError);
    expect((missing as VaultError).code).toBe("credential_not_found");

    const minted = await user.vaults.mintAgentToken(slug, { name: "agent", ttl: "10m" });
    expect(minted.apiKey.role).toBe("agent");
    const agent = new Vault({ baseUrl: "https://vault.test", apiKey: minted.key, fetch: selfFetch });
    expect((await agent.vaults.credentials.list(slug)).map((c) => c.key)).toEqual(["STRIPE_KEY"]);
    const denied = await agent.vaults.credentials.get(slug, "STRIPE_KEY").catch((e: unknown) => e);
    expect((denied as VaultError).code).toBe("access_denied");

    // A log row as the proxy writes it.
    await env.DB.prepare("INSERT INTO proxy_log (id, team_id, api_key_id, method, host, path, service, credential_keys, status, error_code, duration_ms, created_at) VALUES (?, ?, ?, 'GET', 'api.stripe.com', '/v1/charges', 'stripe', '[\"STRIPE_KEY\"]', 200, NULL, 12, ?)")
      .bind(newId.request().replace(/^req_/, "plog_"), owner.team.id, minted.apiKey.id, new Date().toISOString())
      .run();
    const logs = await user.vaults.logs(slug, { service: "stripe" });
    expect(logs.entries).toEqual([expect.objectContaining({ method: "GET", host: "api.stripe.com", path: "/v1/charges", service: "stripe", credentialKeys: ["STRIPE_KEY"], status: 200 })]);
    expect((await user.vaults.logs(slug, { status: 500 })).entries).toEqual([]);
    expect((await agent.vaults.logs(slug)).entries).toHaveLength(1);
  });
});
