/**
 * Proposals end to end, in real Chromium against the local server: an agent proposes over the
 * API, a member opens the approval URL (signing in and coming back), fills the values and
 * allows; the agent's next proxied call then reaches the local upstream with the credentials
 * injected. Also: reject with a reason, the exfiltration warning, hostile text rendered as text.
 * After every step: no credential value in the page's HTML, axe-core finds nothing serious or
 * critical, and a screenshot goes to test-results/proposals/.
 */
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { address as clientAddress, PASSWORD, portalSession } from "./browser";
import { baseUrl, canary, logLinesWith, namespace, request, responseHits, upstreamRecords, upstreamUrl } from "./helpers";

const XSS = "<img src=x onerror=alert(1)>";

const session = portalSession("proposals");
const { stored, dialogs, check, path } = session;
let page: Page;
beforeAll(() => {
  page = session.page;
});
const address = () => clientAddress("198.51.100");

describe("proposals in Chromium", () => {
  const owner = { email: `reviewer-${randomUUID()}@example.com`, teamId: "", session: "" };
  let agentKey = "";
  const humanValue = canary();
  const agentValue = canary();
  stored.push(humanValue, agentValue);
  const upstreamHost = () => new URL(upstreamUrl()).host;
  let approvalPath = "";
  let proposalId = "";

  beforeAll(async () => {
    const signup = await request("POST", "/auth/signup", { body: { email: owner.email, password: PASSWORD, teamName: "Agents at work" }, headers: address() });
    expect(signup.status).toBe(201);
    owner.teamId = signup.json.team.id;
    owner.session = signup.json.token;
    expect((await request("PATCH", `/admin/teams/${owner.teamId}`, { admin: true, body: { plan: "pro" } })).status).toBe(200);
    const minted = await request("POST", `/v1/vaults/${owner.teamId}/agent-tokens`, { headers: { authorization: `Bearer ${owner.session}` }, body: { name: "coding agent", ttl: "1h" } });
    expect(minted.status, minted.text).toBe(201);
    agentKey = minted.json.key;
  });

  it("the agent proposes; the approval URL sends a visitor to sign in and back", async () => {
    const proposed = await request("POST", "/v1/proposals", {
      key: agentKey,
      body: {
        message: `I need the upstream API to finish the task ${XSS}`,
        services: [{ name: "up", host: upstreamHost(), auth: { type: "custom", headers: { authorization: "Bearer {{ UPSTREAM_TOKEN }}", "x-generated": "{{ GENERATED_TOKEN }}" } } }],
        credentials: [
          { action: "set", key: "UPSTREAM_TOKEN", description: `The upstream's API token ${XSS}`, obtain: "https://dashboard.example.com/api-keys", obtain_instructions: "Settings > API keys > Create" },
          { action: "set", key: "GENERATED_TOKEN", description: "Generated during setup", value: agentValue },
        ],
      },
    });
    expect(proposed.status, proposed.text).toBe(201);
    proposalId = proposed.json.proposal.id;
    const url = new URL(proposed.json.proposal.approvalUrl);
    expect(url.origin).toBe(baseUrl());
    approvalPath = url.pathname;
    expect(approvalPath).toBe(`/portal/proposals/${proposalId}`);

    await page.goto(baseUrl() + approvalPath);
    expect(path()).toBe(`/portal/login?next=${encodeURIComponent(approvalPath)}`);
    await page.getByLabel("Email").fill(owner.email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe(approvalPath);
    await check("approval-page");
  });

  it("shows the message, the services, each slot (safe obtain link, instructions), the value-provided length, and no warning", async () => {
    expect(await page.locator("#agent-message").textContent()).toContain(`finish the task ${XSS}`);
    expect(await page.locator("img").count()).toBe(0);
    const obtain = page.getByRole("link", { name: "https://dashboard.example.com/api-keys" });
    expect(await obtain.getAttribute("href")).toBe("https://dashboard.example.com/api-keys");
    expect(await obtain.getAttribute("rel")).toContain("noopener");
    expect(await page.getByText("Settings > API keys > Create").count()).toBe(1);
    expect(await page.locator('[data-value-provided="GENERATED_TOKEN"]').textContent()).toContain(`(${agentValue.length} characters)`);
    expect(await page.getByLabel("Value of UPSTREAM_TOKEN").getAttribute("type")).toBe("password");
    expect(await page.locator("#exfiltration-warning").count()).toBe(0);
    expect(await page.getByRole("cell", { name: upstreamHost() }).count()).toBe(1);
  });

  it("Allow without the missing value asks for it; with it, everything applies", async () => {
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForLoadState("load");
    expect(await page.getByRole("alert").first().textContent()).toContain("UPSTREAM_TOKEN");
    await check("approval-missing-value");

    await page.getByLabel("Value of UPSTREAM_TOKEN").fill(humanValue);
    await page.getByRole("button", { name: "Allow" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe(`${approvalPath}?done=approved`);
    expect(await page.getByText("Proposal allowed").count()).toBe(1);
    expect(await page.getByRole("button", { name: "Allow" }).count()).toBe(0);
    await check("approved");

    const polled = await request("GET", `/v1/proposals/${proposalId}`, { key: agentKey });
    expect(polled.json.proposal.status).toBe("approved");
    const services = await request("GET", `/v1/vaults/${owner.teamId}/services`, { key: agentKey });
    expect(services.json.services.map((s: { name: string; host: string }) => [s.name, s.host])).toEqual([["up", upstreamHost()]]);
  });

  it("the agent's next proxied call reaches the upstream with both credentials injected", async () => {
    const id = namespace("proposal");
    const res = await fetch(`${baseUrl()}/s/up/ns/${id}/echo-request`, { headers: { authorization: `Bearer ${agentKey}` } });
    const text = await res.text();
    // Not recorded for the leak search: the echo upstream answers with what it received (the injected values), by design.
    expect(res.status, text.slice(0, 300)).toBe(200);
    const [seen] = await upstreamRecords(id);
    expect(seen?.headers.authorization).toBe(`Bearer ${humanValue}`);
    expect(seen?.headers["x-generated"]).toBe(agentValue);
  });

  it("warns loudly when a proposal would send an existing credential to a new host", async () => {
    const proposed = await request("POST", "/v1/proposals", {
      key: agentKey,
      body: { message: "Mirror the results", services: [{ name: "mirror", host: "collector.example.net", auth: { type: "bearer", token: "UPSTREAM_TOKEN" } }] },
    });
    expect(proposed.status, proposed.text).toBe(201);
    await page.goto(`${baseUrl()}/portal/proposals/${proposed.json.proposal.id}`);
    const warning = page.locator("#exfiltration-warning");
    expect(await warning.count()).toBe(1);
    const said = await warning.textContent();
    expect(said).toContain("UPSTREAM_TOKEN");
    expect(said).toContain("collector.example.net");
    expect(said).toContain(upstreamHost());
    await check("exfiltration-warning");
  });

  it("Reject with a reason closes it; the agent sees why; nothing changed", async () => {
    const proposed = await request("POST", "/v1/proposals", {
      key: agentKey,
      body: { message: "One more key", services: [{ name: "other", host: "api.other.example.com", auth: { type: "bearer", token: "OTHER_TOKEN" } }], credentials: [{ action: "set", key: "OTHER_TOKEN", description: "Other API" }] },
    });
    const id = proposed.json.proposal.id;
    await page.goto(`${baseUrl()}/portal/proposals/${id}`);
    await page.getByLabel("Reason (shown to the agent)").fill("Not for this project");
    await page.getByRole("button", { name: "Reject" }).click();
    await page.waitForLoadState("load");
    expect(path()).toBe(`/portal/proposals/${id}?done=rejected`);
    expect(await page.getByText("Reason: Not for this project").count()).toBe(1);
    await check("rejected");
    const polled = await request("GET", `/v1/proposals/${id}`, { key: agentKey });
    expect([polled.json.proposal.status, polled.json.proposal.reason]).toEqual(["rejected", "Not for this project"]);
    const keys = await request("GET", `/v1/vaults/${owner.teamId}/credentials`, { headers: { authorization: `Bearer ${owner.session}` } });
    expect(keys.json.credentials.map((c: { key: string }) => c.key)).toEqual(["GENERATED_TOKEN", "UPSTREAM_TOKEN"]);
  });

  it("lists the team's proposals with their status, and filters", async () => {
    await page.getByRole("link", { name: "Proposals", exact: true }).first().click();
    await page.waitForLoadState("load");
    expect(path()).toBe("/portal/proposals");
    expect(await page.locator("tr[data-proposal-id]").count()).toBe(3);
    await check("proposals-list");
    await page.goto(`${baseUrl()}/portal/proposals?status=pending`);
    expect(await page.locator("tr[data-proposal-id]").count()).toBe(1);
    await check("proposals-pending");
  });

  it("never shows a credential value anywhere, never runs injected script", async () => {
    expect(dialogs).toEqual([]);
    for (const value of stored) {
      expect(responseHits(value), "API responses").toEqual([]);
      expect(logLinesWith(value), "server log").toEqual([]);
    }
  });
});
