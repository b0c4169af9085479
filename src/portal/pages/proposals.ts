import { PROPOSAL_STATUSES, type ProposalStatus } from "../../api/proposals";
import { createContext, type VaultContext } from "../../context";
import { AppError } from "../../errors";
import { ConnectBody, PasteBody } from "../../api/oauth";
import { startConnect } from "../../oauth/connect";
import { oauthStatus, pasteTokens } from "../../oauth/credentials";
import { approveProposal, listProposals, proposalTeamId, rejectProposal, reviewProposal, type ProposalView } from "../../proposals/proposals";
import { resolveVault } from "../../teams/vaults";
import { redirect, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, field, formError, text, zodFieldErrors, type FieldErrors } from "../forms";
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

/**
 * After approval, an OAuth slot is connected here: Connect (the provider's consent, when the
 * agent named an authorization URL) or pasted tokens, through the OAuth credentials' own
 * functions. Before approval nothing can be connected (that would bypass the review).
 */
async function oauthBlock(r: SignedInRequest, ctx: VaultContext, p: ProposalView, errors: FieldErrors | undefined): Promise<Html> {
  if (p.status !== "approved") return html``;
  const slots = p.credentials.filter((c) => c.action === "set" && c.type === "oauth");
  if (slots.length === 0) return html``;
  const blocks: Html[] = [];
  for (const slot of slots) {
    // Not created until connected or pasted: "not found" is simply not connected yet.
    const status = await oauthStatus(ctx, slot.key).catch((error: unknown) => {
      if (error instanceof AppError && error.code === "not_found") return { connected: false, connectedAt: null };
      throw error;
    });
    const o = slot.oauth;
    const prefix = `${slot.key}-`;
    const errs = errors && Object.fromEntries(Object.entries(errors).filter(([k]) => k.startsWith(prefix) || k === "form"));
    blocks.push(html`<div class="card" data-oauth-slot="${slot.key}">
<h3><code>${slot.key}</code> ${status.connected ? badge("Connected", "good") : badge("Not connected", "bad")}</h3>
${status.connected ? html`<p>Connected ${date(status.connectedAt)}; the access token is refreshed automatically.</p>` : ""}
${o?.authorization_url
    ? html`<form method="post" action="/portal/proposals/${p.id}/oauth/${slot.key}/connect">
${csrfField(r.csrf)}
<p>Connect with the provider (${safeLink(o.authorization_url)}): enter your OAuth app's client credentials.</p>
${field({ name: `${prefix}client_id`, label: `Client ID for ${slot.key}`, required: true, autocomplete: "off", errors: errs })}
${field({ name: `${prefix}client_secret`, label: `Client secret for ${slot.key} (optional)`, type: "password", autocomplete: "off", errors: errs })}
<div class="actions"><button type="submit">Connect ${slot.key}</button></div>
</form>`
    : ""}
<form method="post" action="/portal/proposals/${p.id}/oauth/${slot.key}/tokens">
${csrfField(r.csrf)}
<p>Or paste tokens you already have (a refresh token is checked with the provider at once).</p>
${field({ name: `${prefix}access_token`, label: `Access token for ${slot.key}`, type: "password", autocomplete: "off", errors: errs })}
${field({ name: `${prefix}refresh_token`, label: `Refresh token for ${slot.key}`, type: "password", autocomplete: "off", errors: errs })}
${field({ name: `${prefix}paste_client_id`, label: `Client ID for ${slot.key} (with a refresh token)`, autocomplete: "off", errors: errs })}
${field({ name: `${prefix}paste_client_secret`, label: `Client secret for ${slot.key} (with a refresh token)`, type: "password", autocomplete: "off", errors: errs })}
<div class="actions"><button type="submit" class="secondary">Save tokens for ${slot.key}</button></div>
</form>
</div>`);
  }
  return html`<h2>Connect OAuth credentials</h2>${blocks}`;
}

function oauthSlotOf(p: ProposalView, key: string) {
  const slot = p.credentials.find((c) => c.action === "set" && c.type === "oauth" && c.key === key);
  if (!slot?.oauth || p.status !== "approved") throw new AppError("not_found", "No OAuth credential of an approved proposal by that KEY");
  return { ...slot, oauth: slot.oauth };
}

async function oauthConnect(r: SignedInRequest): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  const { proposal: p } = await reviewProposal(ctx, id, r.url.origin);
  const slot = oauthSlotOf(p, r.params.key ?? "");
  const prefix = `${slot.key}-`;
  const parsed = ConnectBody.safeParse({
    authorization_url: slot.oauth.authorization_url,
    token_url: slot.oauth.token_url,
    client_id: text(r.form, `${prefix}client_id`),
    ...(text(r.form, `${prefix}client_secret`) ? { client_secret: text(r.form, `${prefix}client_secret`) } : {}),
    ...(slot.oauth.scopes ? { scopes: slot.oauth.scopes } : {}),
  });
  if (!parsed.success) return approvalPage(r, prefixed(zodFieldErrors(parsed.error), prefix), 400);
  let started;
  try {
    started = await startConnect(ctx, slot.key, parsed.data, r.url.origin);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return approvalPage(r, { form: error.message }, error.status);
    throw error;
  }
  // A link, not a redirect: the portal's CSP (form-action 'self') stops a form's redirect to another origin.
  const body = html`<p><a href="/portal/proposals/${p.id}">← The proposal</a></p>
<h1>Connect ${slot.key}</h1>
<div class="card"><p>Continue at the provider to give consent; you come back to a page that says whether it worked. The link is valid for 10 minutes, once.</p>
<p><a id="continue-oauth" href="${started.authorizationUrl}" rel="noopener noreferrer">Continue to the provider</a></p></div>`;
  return r.page({ title: `Connect ${slot.key}`, nav: "proposals" }, body);
}

const prefixed = (errors: FieldErrors, prefix: string): FieldErrors => Object.fromEntries(Object.entries(errors).map(([k, v]) => [k === "form" ? k : `${prefix}${k}`, v]));

async function oauthPaste(r: SignedInRequest): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  const { proposal: p } = await reviewProposal(ctx, id, r.url.origin);
  const slot = oauthSlotOf(p, r.params.key ?? "");
  const prefix = `${slot.key}-`;
  const optional = (name: string, as: string) => (text(r.form, `${prefix}${name}`) ? { [as]: text(r.form, `${prefix}${name}`) } : {});
  const parsed = PasteBody.safeParse({
    ...optional("access_token", "access_token"),
    ...optional("refresh_token", "refresh_token"),
    ...optional("paste_client_id", "client_id"),
    ...optional("paste_client_secret", "client_secret"),
    token_url: slot.oauth.token_url,
    ...(slot.oauth.scopes ? { scopes: slot.oauth.scopes } : {}),
  });
  if (!parsed.success) return approvalPage(r, prefixed(zodFieldErrors(parsed.error), prefix), 400);
  try {
    await pasteTokens(ctx, slot.key, parsed.data);
  } catch (error) {
    // The provider's refusal or a bad field: shown, the tokens never rendered back.
    if (error instanceof AppError && error.status < 500) return approvalPage(r, prefixed(appFieldErrors(error), prefix), error.status);
    throw error;
  }
  return redirect(`/portal/proposals/${p.id}?done=connected`);
}

async function approvalPage(r: SignedInRequest, errors?: FieldErrors, status = 200): Promise<Response> {
  const id = r.params.id ?? "";
  const ctx = await vaultContextFor(r, id);
  const { proposal: p, warnings } = await reviewProposal(ctx, id, r.url.origin);
  const pending = p.status === "pending";
  const done = r.url.searchParams.get("done");
  const notice = done === "approved" ? "Proposal allowed: its credentials and services are in place." : done === "rejected" ? "Proposal rejected." : done === "connected" ? "OAuth tokens saved." : undefined;
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
    : html`${slots.length ? html`<h2>Credentials</h2>${slots.map((s) => slotBlock(p, s, false, undefined))}` : ""}
${formError(errors)}
${await oauthBlock(r, ctx, p, errors)}`}`;
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
  { method: "POST", path: "/portal/proposals/:id/oauth/:key/connect", auth: "user", handler: oauthConnect },
  { method: "POST", path: "/portal/proposals/:id/oauth/:key/tokens", auth: "user", handler: oauthPaste },
];
