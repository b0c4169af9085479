import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { expireProposals } from "../src/proposals/expiry";
import { call } from "./helpers/api";
import { asUser, createKey, signupUser } from "./helpers/accounts";
import { CANARY } from "./helpers/constants";
import { proOwner } from "./helpers/store";

/** Issue 12 section 2: proposals (the agent asks, a member approves in one batch, or nothing changes). */
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const AGENT_VALUE = `${CANARY}-agent`;
const HUMAN_VALUE = `${CANARY}-human`;

async function vault(label = "prop") {
  const owner = await proOwner(label);
  const agent = await createKey(owner.token, owner.team.id, { name: "agent", role: "agent" });
  expect(agent.status).toBe(201);
  const full = await createKey(owner.token, owner.team.id, { name: "full", scopes: ["vault:read", "vault:write", "proposals:write", "secrets:reveal", "audit:read"] });
  expect(full.status).toBe(201);
  return { owner, agentKey: agent.json.key as string, agentId: agent.json.apiKey.id as string, fullKey: full.json.key as string };
}

const stripeProposal = {
  message: "I need Stripe to create test invoices",
  services: [{ name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } }],
  credentials: [
    { action: "set", key: "STRIPE_KEY", description: "Stripe test key", obtain: "https://dashboard.stripe.com/apikeys", obtain_instructions: "Developers > API Keys" },
  ],
};

async function propose(key: string, body: unknown) {
  return call("POST", "/v1/proposals", { key, body });
}

describe("proposals: create and read", () => {
  it("answers 201 with the approval URL; the agent polls its status; the review shows slots without values", async () => {
    const { owner, agentKey, agentId } = await vault();
    const body = {
      message: "Stripe and a generated token",
      services: [{ name: "stripe", host: "api.stripe.com", auth: { type: "custom", headers: { authorization: "Bearer {{ STRIPE_KEY }}", "x-gen": "{{ GENERATED }}" } } }],
      credentials: [
        { action: "set", key: "STRIPE_KEY", description: "Stripe test key", obtain: "https://dashboard.stripe.com/apikeys" },
        { action: "set", key: "GENERATED", description: "generated during setup", value: AGENT_VALUE },
      ],
    };
    const created = await propose(agentKey, body);
    expect(created.status).toBe(201);
    const { id, approvalUrl, expiresAt, status } = created.json.proposal;
    expect(id).toMatch(/^prop_[0-9a-z]{26}$/);
    expect(status).toBe("pending");
    expect(approvalUrl).toBe(`https://vault.test/portal/proposals/${id}`);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(6.9 * 24 * 3600 * 1000);

    const polled = await call("GET", `/v1/proposals/${id}`, { key: agentKey });
    expect(polled.status).toBe(200);
    expect(polled.json.proposal).toMatchObject({ id, status: "pending", apiKeyId: agentId, message: body.message });
    const review = await call("GET", `/v1/vaults/${owner.team.id}/proposals/${id}`, { headers: bearer(owner.token) });
    expect(review.status).toBe(200);
    expect(review.json.warnings).toEqual([]);
    expect(review.json.proposal.credentials).toEqual([
      { action: "set", key: "STRIPE_KEY", type: "static", description: "Stripe test key", obtain: "https://dashboard.stripe.com/apikeys", valueProvided: false, exists: false },
      { action: "set", key: "GENERATED", type: "static", description: "generated during setup", valueProvided: true, valueLength: AGENT_VALUE.length, exists: false },
    ]);
    const list = await call("GET", `/v1/vaults/${owner.team.id}/proposals?status=pending`, { headers: bearer(owner.token) });
    expect(list.json.proposals.map((p: { id: string }) => p.id)).toEqual([id]);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/proposals?status=approved`, { headers: bearer(owner.token) })).json.proposals).toEqual([]);
    for (const res of [created, polled, review, list]) expect(res.text).not.toContain(CANARY);
    const stored = await env.DB.prepare("SELECT slots FROM proposals WHERE id = ?").bind(id).first<{ slots: string }>();
    expect(stored!.slots).not.toContain(CANARY);
  });

  it("another team's key and a stranger cannot see it", async () => {
    const a = await vault();
    const b = await vault();
    const id = (await propose(a.agentKey, stripeProposal)).json.proposal.id;
    expect((await call("GET", `/v1/proposals/${id}`, { key: b.agentKey })).status).toBe(404);
    expect((await call("GET", `/v1/vaults/${b.owner.team.id}/proposals/${id}`, { headers: bearer(b.owner.token) })).status).toBe(404);
    expect((await call("GET", `/v1/vaults/${a.owner.team.id}/proposals/${id}`, { headers: bearer(b.owner.token) })).status).toBe(404);
  });

  it("enforces every validation rule with a clear code", async () => {
    const { owner, agentKey, fullKey } = await vault();
    await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey, body: { credentials: { EXISTING: "x-existing-value" } } });
    const service = (i: number, token = "K") => ({ name: `s${i}`, host: `api${i}.example.com`, auth: { type: "bearer", token } });
    const cases: [string, unknown, number, string][] = [
      ["empty", { message: "nothing" }, 400, "validation_failed"],
      ["11 services", { services: Array.from({ length: 11 }, (_, i) => service(i, "EXISTING")) }, 400, "validation_failed"],
      ["11 slots", { credentials: Array.from({ length: 11 }, (_, i) => ({ action: "set", key: `K${i}` })) }, 400, "validation_failed"],
      ["bad KEY", { credentials: [{ action: "set", key: "lower-case" }] }, 400, "invalid_credential_key"],
      ["unreferenced slot", { services: [service(1, "EXISTING")], credentials: [{ action: "set", key: "UNUSED" }] }, 400, "proposal_invalid"],
      ["unknown KEY in a service", { services: [service(1, "NOWHERE")] }, 400, "proposal_invalid"],
      ["value on an OAuth slot", { services: [service(1, "GH")], credentials: [{ action: "set", key: "GH", type: "oauth", value: "x", oauth: { token_url: "https://github.com/login/oauth/access_token" } }] }, 400, "proposal_invalid"],
      ["OAuth slot without config", { services: [service(1, "GH")], credentials: [{ action: "set", key: "GH", type: "oauth" }] }, 400, "proposal_invalid"],
      ["javascript: obtain link", { credentials: [{ action: "set", key: "K", obtain: "javascript:alert(1)" }] }, 400, "validation_failed"],
      ["bad host pattern", { services: [{ name: "s", host: "http://evil/", auth: { type: "bearer", token: "EXISTING" } }] }, 400, "validation_failed"],
      ["private host", { services: [{ name: "s", host: "169.254.169.254", auth: { type: "bearer", token: "EXISTING" } }] }, 400, "validation_failed"],
      ["delete of a missing KEY", { credentials: [{ action: "delete", key: "NOPE" }] }, 400, "proposal_invalid"],
      ["duplicate KEY", { credentials: [{ action: "set", key: "K" }, { action: "delete", key: "K" }] }, 400, "proposal_invalid"],
      ["service uses a deleted KEY", { services: [service(1, "EXISTING")], credentials: [{ action: "delete", key: "EXISTING" }] }, 400, "proposal_invalid"],
    ];
    for (const [label, body, status, code] of cases) {
      const res = await propose(agentKey, body);
      expect([res.status, res.json.code], label).toEqual([status, code]);
    }
    const ok = await propose(agentKey, { services: [service(1, "EXISTING")] });
    expect(ok.status).toBe(201);
    const del = await propose(agentKey, { credentials: [{ action: "delete", key: "EXISTING" }], message: "Remove unused API key" });
    expect(del.status).toBe(201);
    const noScope = await createKey(owner.token, owner.team.id, { name: "no proposals", scopes: ["vault:read"] });
    expect((await propose(noScope.json.key, stripeProposal)).status).toBe(403);
  });

  it("allows at most 20 pending proposals per vault (429)", async () => {
    const { agentKey } = await vault();
    for (let i = 0; i < 20; i++) expect((await propose(agentKey, stripeProposal)).status).toBe(201);
    const over = await propose(agentKey, stripeProposal);
    expect([over.status, over.json.code, over.json.limit]).toEqual([429, "too_many_pending_proposals", 20]);
  });
});

describe("proposals: approve and reject", () => {
  it("refuses every API key on approve and reject (agent or full member key)", async () => {
    const { owner, agentKey, fullKey } = await vault();
    const id = (await propose(agentKey, stripeProposal)).json.proposal.id;
    for (const key of [agentKey, fullKey]) {
      const approve = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/approve`, { key, body: { credentials: { STRIPE_KEY: HUMAN_VALUE } } });
      expect(approve.status).toBe(403);
      const reject = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/reject`, { key, body: { reason: "no" } });
      expect(reject.status).toBe(403);
    }
    expect((await call("GET", `/v1/proposals/${id}`, { key: agentKey })).json.proposal.status).toBe("pending");
    expect((await call("GET", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey })).json.credentials).toEqual([]);
  });

  it("a member's session approves: credentials set, service written, audited, in one go; approving again is 409", async () => {
    const { owner, agentKey, fullKey } = await vault();
    const member = await signupUser("prop-member");
    await asUser(owner.token, "POST", `/teams/${owner.team.id}/members`, { email: member.email, role: "member" });
    const id = (await propose(agentKey, stripeProposal)).json.proposal.id;
    const path = `/v1/vaults/${owner.team.id}/proposals/${id}/approve`;
    const missing = await call("POST", path, { headers: { ...bearer(member.token), "x-team-id": owner.team.id }, body: {} });
    expect([missing.status, missing.json.code, missing.json.keys]).toEqual([400, "value_required", ["STRIPE_KEY"]]);
    const approved = await call("POST", path, { headers: bearer(member.token), body: { credentials: { STRIPE_KEY: HUMAN_VALUE } } });
    expect(approved.status).toBe(200);
    expect(approved.json.proposal).toMatchObject({ status: "approved", decidedBy: member.user.id });
    expect(approved.text).not.toContain(CANARY);
    const reveal = await call("GET", `/v1/vaults/${owner.team.id}/credentials/STRIPE_KEY`, { key: fullKey });
    expect(reveal.json.credential.value).toBe(HUMAN_VALUE);
    const services = await call("GET", `/v1/vaults/${owner.team.id}/services`, { key: fullKey });
    expect(services.json.services).toEqual([expect.objectContaining({ name: "stripe", host: "api.stripe.com", auth: { type: "bearer", token: "STRIPE_KEY" } })]);
    const again = await call("POST", path, { headers: bearer(member.token), body: { credentials: { STRIPE_KEY: "other" } } });
    expect([again.status, again.json.code, again.json.status]).toEqual([409, "proposal_not_pending", "approved"]);
    const audit = await call("GET", "/v1/audit?limit=100", { key: fullKey });
    const actions = audit.json.entries.map((e: { action: string }) => e.action);
    for (const action of ["proposal.created", "proposal.approved", "vault.credential.set", "service.created"]) expect(actions).toContain(action);
    expect(audit.text).not.toContain(CANARY);
    expect((await call("GET", `/v1/proposals/${id}`, { key: agentKey })).json.proposal.status).toBe("approved");
  });

  it("an agent-provided value is stored as given when the reviewer adds none; deletes apply", async () => {
    const { owner, agentKey, fullKey } = await vault();
    await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey, body: { credentials: { OLD_API_KEY: "old-value-1" } } });
    const id = (await propose(agentKey, { credentials: [{ action: "set", key: "GENERATED_TOKEN", value: AGENT_VALUE }, { action: "delete", key: "OLD_API_KEY" }] })).json.proposal.id;
    const approved = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/approve`, { headers: bearer(owner.token), body: {} });
    expect(approved.status).toBe(200);
    const keys = await call("GET", `/v1/vaults/${owner.team.id}/credentials?reveal=true`, { key: fullKey });
    expect(keys.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value])).toEqual([["GENERATED_TOKEN", AGENT_VALUE]]);
  });

  it("20 concurrent approvals: exactly one applies", async () => {
    const { owner, agentKey, fullKey } = await vault();
    const id = (await propose(agentKey, stripeProposal)).json.proposal.id;
    const path = `/v1/vaults/${owner.team.id}/proposals/${id}/approve`;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call("POST", path, { headers: bearer(owner.token), body: { credentials: { STRIPE_KEY: `${HUMAN_VALUE}-${i}` } } })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    const winner = answers.findIndex((a) => a.status === 200);
    const row = await env.DB.prepare("SELECT current_version FROM tokens WHERE team_id = ? AND kind = 'vault_key' AND name = 'STRIPE_KEY'").bind(owner.team.id).first<{ current_version: number }>();
    expect(row!.current_version).toBe(1);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/credentials/STRIPE_KEY`, { key: fullKey })).json.credential.value).toBe(`${HUMAN_VALUE}-${winner}`);
    const approvedRows = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ? AND action = 'proposal.approved'").bind(id).first<{ n: number }>();
    expect(approvedRows!.n).toBe(1);
    const services = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE team_id = ? AND action = 'service.created'").bind(owner.team.id).first<{ n: number }>();
    expect(services!.n).toBe(1);
  });

  it("reject closes it with a reason; approving a rejected proposal is 409 and changes nothing", async () => {
    const { owner, agentKey, fullKey } = await vault();
    const id = (await propose(agentKey, stripeProposal)).json.proposal.id;
    const rejected = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/reject`, { headers: bearer(owner.token), body: { reason: "not now" } });
    expect([rejected.status, rejected.json.proposal.status, rejected.json.proposal.reason]).toEqual([200, "rejected", "not now"]);
    const approve = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/approve`, { headers: bearer(owner.token), body: { credentials: { STRIPE_KEY: HUMAN_VALUE } } });
    expect([approve.status, approve.json.code]).toEqual([409, "proposal_not_pending"]);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey })).json.credentials).toEqual([]);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/services`, { key: fullKey })).json.services).toEqual([]);
    expect((await call("GET", `/v1/proposals/${id}`, { key: agentKey })).json.proposal.status).toBe("rejected");
  });

  it("expires after 7 days: approval refused (409), the sweeper records the expiry once", async () => {
    const { owner, agentKey, fullKey } = await vault();
    const id = (await propose(agentKey, stripeProposal)).json.proposal.id;
    await env.DB.prepare("UPDATE proposals SET expires_at = ? WHERE id = ?").bind(new Date(Date.now() - 1000).toISOString(), id).run();
    expect((await call("GET", `/v1/proposals/${id}`, { key: agentKey })).json.proposal.status).toBe("expired");
    const approve = await call("POST", `/v1/vaults/${owner.team.id}/proposals/${id}/approve`, { headers: bearer(owner.token), body: { credentials: { STRIPE_KEY: HUMAN_VALUE } } });
    expect([approve.status, approve.json.code, approve.json.status]).toEqual([409, "proposal_not_pending", "expired"]);
    expect((await call("GET", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey })).json.credentials).toEqual([]);
    await expireProposals(env);
    await expireProposals(env);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE target_id = ? AND action = 'proposal.expired'").bind(id).first<{ n: number }>();
    expect(rows!.n).toBe(1);
    const listed = await call("GET", `/v1/vaults/${owner.team.id}/proposals?status=expired`, { headers: bearer(owner.token) });
    expect(listed.json.proposals.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  it("warns loudly when an existing credential would go to a host it did not go to before", async () => {
    const { owner, agentKey, fullKey } = await vault();
    await call("POST", `/v1/vaults/${owner.team.id}/credentials`, { key: fullKey, body: { credentials: { GITHUB_TOKEN: "ghp-existing-value" } } });
    await call("POST", `/v1/vaults/${owner.team.id}/services`, { headers: bearer(owner.token), body: { name: "github", host: "api.github.com", auth: { type: "bearer", token: "GITHUB_TOKEN" } } });
    const sneaky = await propose(agentKey, { message: "mirror", services: [{ name: "mirror", host: "collector.example.net", auth: { type: "bearer", token: "GITHUB_TOKEN" } }] });
    expect(sneaky.status).toBe(201);
    const review = await call("GET", `/v1/vaults/${owner.team.id}/proposals/${sneaky.json.proposal.id}`, { headers: bearer(owner.token) });
    expect(review.json.warnings).toEqual([
      expect.objectContaining({ kind: "new_host_for_existing_credential", service: "mirror", host: "collector.example.net", key: "GITHUB_TOKEN", previousHosts: ["api.github.com"] }),
    ]);
    const same = await propose(agentKey, { services: [{ name: "github2", host: "API.github.com", auth: { type: "bearer", token: "GITHUB_TOKEN" } }] });
    expect((await call("GET", `/v1/vaults/${owner.team.id}/proposals/${same.json.proposal.id}`, { headers: bearer(owner.token) })).json.warnings).toEqual([]);
  });

  it("sets the proposal webhook (admin, URL policy) and reads it back", async () => {
    const { owner, agentKey } = await vault();
    const path = `/v1/vaults/${owner.team.id}/proposal-webhook`;
    const bad = await call("PUT", path, { headers: bearer(owner.token), body: { url: "http://169.254.169.254/hook" } });
    expect([bad.status, bad.json.code]).toEqual([400, "url_not_allowed"]);
    const set = await call("PUT", path, { headers: bearer(owner.token), body: { url: "https://hooks.example.com/proposals" } });
    expect([set.status, set.json.url]).toEqual([200, "https://hooks.example.com/proposals"]);
    expect((await call("GET", path, { key: agentKey })).json.url).toBe("https://hooks.example.com/proposals");
    expect((await call("PUT", path, { headers: bearer(owner.token), body: { url: null } })).json.url).toBeNull();
  });
});
