import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike } from "../src/client";
import { proOwner } from "./helpers/store";

/** The typed client's proposal methods (issue 12 section 2), inside workerd against this Worker. */
const selfFetch: FetchLike = (url, init) => SELF.fetch(url, init);

describe("client: proposals", () => {
  it("proposes as an agent, reviews, approves and rejects as a member, polls, sets the webhook", async () => {
    const owner = await proOwner("client-proposals");
    const user = new Vault({ baseUrl: "https://vault.test", sessionToken: owner.token, fetch: selfFetch });
    const vault = owner.team.id;
    const minted = await user.vaults.mintAgentToken(vault, { name: "agent", ttl: "10m" });
    const agent = new Vault({ baseUrl: "https://vault.test", apiKey: minted.key, fetch: selfFetch });

    const created = await agent.proposals.create({
      message: "need stripe",
      services: [{ name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } }],
      credentials: [{ action: "set", key: "STRIPE_KEY", description: "Stripe test key" }],
    });
    expect(created).toMatchObject({ status: "pending", approvalUrl: `https://vault.test/portal/proposals/${created.id}` });
    expect((await agent.proposals.get(created.id)).status).toBe("pending");
    const review = await user.proposals.review(vault, created.id);
    expect([review.warnings, review.proposal.credentials.map((c) => c.key)]).toEqual([[], ["STRIPE_KEY"]]);
    expect((await user.proposals.list(vault, { status: "pending" })).map((p) => p.id)).toEqual([created.id]);

    const refused = await agent.proposals.approve(vault, created.id, { STRIPE_KEY: "x" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(VaultError);
    const approved = await user.proposals.approve(vault, created.id, { STRIPE_KEY: "sk_test_client" });
    expect(approved.status).toBe("approved");
    expect((await agent.proposals.get(created.id)).status).toBe("approved");

    const second = await agent.proposals.create({ credentials: [{ action: "delete", key: "STRIPE_KEY" }] });
    expect((await user.proposals.reject(vault, second.id, "keep it")).reason).toBe("keep it");
    const again = await user.proposals.approve(vault, second.id).catch((e: unknown) => e);
    expect((again as VaultError).code).toBe("proposal_not_pending");

    expect(await user.proposals.setWebhook(vault, "https://hooks.example.com/p")).toBe("https://hooks.example.com/p");
    expect(await agent.proposals.webhook(vault)).toBe("https://hooks.example.com/p");
  });
});
