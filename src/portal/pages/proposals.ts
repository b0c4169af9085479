import { PROPOSAL_STATUSES, type ProposalStatus } from "../../api/proposals";
import { createContext, type VaultContext } from "../../context";
import { AppError } from "../../errors";
import { approveProposal, listProposals, proposalTeamId, rejectProposal, reviewProposal, type ProposalView } from "../../proposals/proposals";
import { resolveVault } from "../../teams/vaults";
import { redirect, type Route, type SignedInRequest } from "../app";
import { field, formError, text, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField } from "../layout";
import { badge, date, none } from "./common";

/**
 * /portal/proposals: the team's proposals, and the approval page an agent's `approvalUrl` opens
 * (/portal/proposals/:id). A reviewer reads the agent's message, the proposed services (with a
 * loud warning when an existing credential would go to a new host), each slot's description,
 * obtain link and instructions, and fills a password field for each slot without a value; a
 * value the agent provided shows only its length. Allow and Reject call the API's functions.
 */
type Review = Awaited<ReturnType<typeof reviewProposal>>;
type Warning = Review["warnings"][number];

const STATUS_TONE: Record<ProposalStatus, "" | "good" | "bad"> = { pending: "", approved: "good", rejected: "bad", expired: "bad" };
const statusBadge = (s: ProposalStatus) => badge(s[0]!.toUpperCase() + s.slice(1), STATUS_TONE[s]);

/** Only http(s) links are rendered as links; anything else is shown as text (never a javascript: href). */
function safeLink(raw: string | undefined): Html {
  if (!raw) return none;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return html`<code>${raw}</code>`;
  return html`<a href="${url.toString()}" rel="noopener noreferrer nofollow" target="_blank">${url.toString()}</a>`;
}

/** The reviewer's vault context for a proposal of any of their teams (the approval link works whichever team the switcher shows). */
async function vaultContextFor(r: SignedInRequest, id: string): Promise<VaultContext> {
  const teamId = /^prop_[0-9a-z]{26}$/.test(id) ? await proposalTeamId(r.env, id) : null;
  if (!teamId) throw new AppError("not_found", "Proposal not found");
  let vault;
  try {
    vault = await resolveVault(r.ctx, teamId, "member");
  } catch (error) {
    // Not a member of that vault: the proposal does not exist for this user.
    if (error instanceof AppError && error.code === "vault_not_found") throw new AppError("not_found", "Proposal not found");
    throw error;
  }
  const base = createContext({ requestId: r.ctx.requestId, env: r.env, exec: r.ctx.exec, actor: r.ctx.actor, clientAddress: r.ctx.clientAddress, team: vault.team });
  return { ...base, vaultRole: vault.role } as VaultContext;
}

const authLabel = (auth: Record<string, unknown>): string => {
  switch (auth.type) {
    case "bearer":
      return `Bearer ${String(auth.token)}`;
    case "basic":
      return `Basic ${String(auth.username)}:${String(auth.password)}`;
    case "api-key":
      return `${String(auth.header ?? "Authorization")}: ${auth.prefix ? String(auth.prefix) : ""}${String(auth.key)}`;
    case "custom":
      return Object.entries((auth.headers ?? {}) as Record<string, string>)
        .map(([h, v]) => `${h}: ${v}`)
        .join("; ");
    default:
      return "passthrough (nothing injected)";
  }
};

function warningsBlock(warnings: Warning[]): Html {
  if (warnings.length === 0) return html``;
  return html`<div class="warning" role="alert" id="exfiltration-warning">
<h2>Warning: an existing credential would go to a new host</h2>
<p><strong>This is how an agent could trick you into handing a key to a host it controls.</strong> Approve only if you trust each host below with the credential named.</p>
<ul>${warnings.map((w) => html`<li data-warning-key="${w.key}"><strong>${w.key}</strong> would be sent to <strong><code>${w.host}</code></strong> (service ${w.service}); ${w.previousHosts.length ? html`until now only to ${w.previousHosts.map((h, i) => html`${i ? ", " : ""}<code>${h}</code>`)}` : html`until now to no host`}.</li>`)}</ul>
</div>`;
}

function servicesBlock(p: ProposalView): Html {
  if (p.services.length === 0) return html``;
  return html`<h2>Proposed services</h2>
<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Name</th><th scope="col">Host</th><th scope="col">Injects</th><th scope="col">Enabled</th></tr></thead>
<tbody>${p.services.map(
    (s) => html`<tr><td data-label="Name"><strong>${String(s.name)}</strong></td><td data-label="Host"><code>${String(s.host)}</code></td><td data-label="Injects"><code>${authLabel((s.auth ?? {}) as Record<string, unknown>)}</code></td><td data-label="Enabled">${s.enabled === false ? "No" : "Yes"}</td></tr>`,
  )}</tbody></table></div>`;
}

function slotBlock(p: ProposalView, slot: ProposalView["credentials"][number], pending: boolean, errors: FieldErrors | undefined): Html {
  const heading = html`<h3><code>${slot.key}</code> ${slot.action === "delete" ? badge("Delete", "bad") : slot.exists ? badge("Replace") : badge("New", "good")}${slot.type === "oauth" ? html` ${badge("OAuth")}` : ""}</h3>`;
  if (slot.action === "delete") return html`<div class="card slot" data-slot="${slot.key}">${heading}<p>The credential <code>${slot.key}</code> is deleted for good when you allow this proposal.</p></div>`;
  const details = html`${slot.description ? html`<p>${slot.description}</p>` : ""}
<dl>
<dt>Where to get it</dt><dd>${safeLink(slot.obtain)}</dd>
${slot.obtain_instructions ? html`<dt>Instructions</dt><dd>${slot.obtain_instructions}</dd>` : ""}
</dl>`;
  let input: Html = html``;
  if (slot.type === "oauth") {
    const o = slot.oauth;
    input = html`<p class="muted">OAuth credential: no value is needed to allow. ${o?.authorization_url ? html`After you allow, connect it with the provider (${safeLink(o.authorization_url)}).` : html`After you allow, paste its tokens.`} Token endpoint: <code>${o?.token_url ?? ""}</code>${o?.scopes ? html`, scopes <code>${o.scopes}</code>` : ""}.</p>`;
  } else if (slot.valueProvided) {
    input = html`<p data-value-provided="${slot.key}">${badge("Value provided")} by the agent (${slot.valueLength ?? 0} characters). Check it is what you expect; ${pending ? html`enter a value below to replace it.` : "it was stored as given."}</p>
${pending ? field({ name: `value_${slot.key}`, label: `Replace the value of ${slot.key} (optional)`, type: "password", autocomplete: "off", errors }) : ""}`;
  } else if (pending) {
    input = field({ name: `value_${slot.key}`, label: `Value of ${slot.key}`, type: "password", required: true, autocomplete: "off", errors });
  }
  return html`<div class="card slot" data-slot="${slot.key}">${heading}${details}${input}</div>`;
}

async function approvalPage(r: SignedInRequest, errors?: FieldErrors, status = 200): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  const { proposal: p, warnings } = await reviewProposal(ctx, id, r.url.origin);
  const pending = p.status === "pending";
  const done = r.url.searchParams.get("done");
  const notice = done === "approved" ? "Proposal allowed: its credentials and services are in place." : done === "rejected" ? "Proposal rejected." : undefined;
  const slots = p.credentials.filter((c) => c.action === "set" || c.action === "delete");
  const body = html`<p><a href="/portal/proposals">← Proposals</a></p>
<h1>Proposal for ${p.vault} ${statusBadge(p.status)}</h1>
<p class="muted">Proposed ${date(p.createdAt)} by API key <code>${p.apiKeyId ?? "unknown"}</code>; ${pending ? html`expires ${date(p.expiresAt)}` : html`decided ${date(p.decidedAt)}`}.</p>
${p.status === "rejected" && p.reason ? html`<p>Reason: ${p.reason}</p>` : ""}
<h2>The agent's message</h2>
<blockquote class="card" id="agent-message">${p.message || html`<span class="muted">No message.</span>`}</blockquote>
${warningsBlock(warnings)}
${servicesBlock(p)}
${pending
    ? html`<form method="post" action="/portal/proposals/${p.id}/approve" id="approve-form" novalidate>
${csrfField(r.csrf)}
${formError(errors)}
${slots.length ? html`<h2>Credentials</h2>${slots.map((s) => slotBlock(p, s, true, errors))}` : ""}
<div class="actions"><button type="submit" id="allow">Allow</button></div>
</form>
<h2>Reject</h2>
<form method="post" action="/portal/proposals/${p.id}/reject" id="reject-form" class="card">
${csrfField(r.csrf)}
${field({ name: "reason", label: "Reason (shown to the agent)", multiline: true })}
<div class="actions"><button type="submit" class="danger" id="reject">Reject</button></div>
</form>`
    : html`${slots.length ? html`<h2>Credentials</h2>${slots.map((s) => slotBlock(p, s, false, undefined))}` : ""}`}`;
  return r.page({ title: "Proposal", nav: "proposals", notice }, body, status);
}

async function approve(r: SignedInRequest): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  const values: Record<string, string> = {};
  for (const [name, value] of r.form.entries()) {
    if (typeof value === "string" && name.startsWith("value_") && value !== "") values[name.slice("value_".length)] = value;
  }
  try {
    await approveProposal(ctx, id, values, r.url.origin);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      // The reviewer's values are never rendered back: the fields come back empty with the reason.
      const keys = (error.details as { keys?: string[] } | undefined)?.keys ?? [];
      const errors: FieldErrors = { form: error.message };
      if (error.code === "value_required") for (const k of keys) errors[`value_${k}`] = "Enter a value";
      return approvalPage(r, errors, error.status);
    }
    throw error;
  }
  return redirect(`/portal/proposals/${id}?done=approved`);
}

async function reject(r: SignedInRequest): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  try {
    await rejectProposal(ctx, id, text(r.form, "reason").slice(0, 1000), r.url.origin);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return approvalPage(r, { form: error.message }, error.status);
    throw error;
  }
  return redirect(`/portal/proposals/${id}?done=rejected`);
}

async function listPage(r: SignedInRequest): Promise<Response> {
  const raw = r.url.searchParams.get("status");
  const status = (PROPOSAL_STATUSES as readonly string[]).includes(raw ?? "") ? (raw as ProposalStatus) : undefined;
  const { proposals } = await listProposals(r.ctx, status, r.url.origin);
  const filters = html`<nav aria-label="Filter by status" class="filters">${[undefined, ...PROPOSAL_STATUSES].map(
    (s) => html`<a href="/portal/proposals${s ? `?status=${s}` : ""}"${s === status ? html` aria-current="page"` : ""}>${s ? s[0]!.toUpperCase() + s.slice(1) : "All"}</a> `,
  )}</nav>`;
  const body = html`<h1>Proposals</h1>
<p>Agents propose credentials and services they need; nothing changes until a member allows it here.</p>
${filters}
${proposals.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Proposal</th><th scope="col">Message</th><th scope="col">Credentials</th><th scope="col">Services</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
<tbody>${proposals.map(
        (p) => html`<tr data-proposal-id="${p.id}">
<td data-label="Proposal"><a href="/portal/proposals/${p.id}">${p.status === "pending" ? "Review" : "View"} <code>${p.id}</code></a></td>
<td data-label="Message">${p.message ? p.message.slice(0, 140) : none}</td>
<td data-label="Credentials">${p.credentials.length ? p.credentials.map((c, i) => html`${i ? ", " : ""}${c.action === "delete" ? "delete " : ""}<code>${c.key}</code>`) : none}</td>
<td data-label="Services">${p.services.length ? p.services.map((s, i) => html`${i ? ", " : ""}${String(s.name)} (<code>${String(s.host)}</code>)`) : none}</td>
<td data-label="Status">${statusBadge(p.status)}</td>
<td data-label="Created">${date(p.createdAt)}</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No proposals${status ? html` with status ${status}` : ""}.</p>`}`;
  return r.page({ title: "Proposals", nav: "proposals" }, body);
}

export const proposalRoutes: Route[] = [
  { method: "GET", path: "/portal/proposals", auth: "user", handler: listPage },
  { method: "GET", path: "/portal/proposals/:id", auth: "user", handler: (r) => approvalPage(r) },
  { method: "POST", path: "/portal/proposals/:id/approve", auth: "user", handler: approve },
  { method: "POST", path: "/portal/proposals/:id/reject", auth: "user", handler: reject },
];
