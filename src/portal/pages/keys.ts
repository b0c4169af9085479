import { CreateKeyBody } from "../../api/accounts";
import { AgentTokenBody } from "../../api/vaults";
import { AGENT_SCOPES, ALL_SCOPES, DEFAULT_SCOPES } from "../../auth/scopes";
import { AppError } from "../../errors";
import { requireRole } from "../../teams/members";
import { mintAgentToken } from "../../gateway/agent-tokens";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey, scopesForRole } from "../../teams/teams";
import { redirect, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, checkboxes, field, formError, list, text, texts, zodFieldErrors, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField } from "../layout";
import { badge, date, none, noticeFor } from "./common";
import { vaultContext } from "./vault-context";

/** API keys: list, create (the key shown once), revoke after a confirmation; the accounts API's functions. */
interface KeyForm {
  name: string;
  role: "standard" | "agent";
  scopes: string[];
  labels: string;
}

interface AgentTokenForm {
  agentName: string;
  ttl: string;
}

/** The agent token lifetimes offered (the domain accepts 5 minutes to 7 days). */
const TTLS: [string, string][] = [
  ["5m", "5 minutes"],
  ["15m", "15 minutes"],
  ["1h", "1 hour"],
  ["8h", "8 hours"],
  ["1d", "1 day"],
  ["7d", "7 days"],
];

const EMPTY_TOKEN: AgentTokenForm = { agentName: "", ttl: "1h" };

function stateCell(k: { revokedAt: string | null; expiresAt: string | null }): Html {
  if (k.revokedAt) return html`${badge("Revoked", "bad")} ${date(k.revokedAt)}`;
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return html`${badge("Expired", "bad")} ${date(k.expiresAt)}`;
  return html`${badge("Active", "good")}${k.expiresAt ? html` until ${date(k.expiresAt)}` : ""}`;
}

async function keysPage(r: SignedInRequest, values: KeyForm, errors?: FieldErrors, status = 200, token: AgentTokenForm = EMPTY_TOKEN, tokenErrors?: FieldErrors): Promise<Response> {
  await requireRole(r.ctx, r.ctx.team.id, "member");
  const keys = await listApiKeys(r.ctx, r.ctx.team.id);
  const body = html`<h1>API keys</h1>
${keys.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Role</th><th scope="col">Scopes</th><th scope="col">Labels</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${keys.map(
        (k) => html`<tr data-key-id="${k.id}">
<td data-label="Name"><strong>${k.name}</strong></td>
<td data-label="Prefix"><code>${k.prefix}</code></td>
<td data-label="Role">${k.role === "agent" ? badge("Agent") : "Standard"}</td>
<td data-label="Scopes">${k.scopes.join(" ")}</td>
<td data-label="Labels">${k.labels.length ? k.labels.join(", ") : none}</td>
<td data-label="Created">${date(k.createdAt)}</td>
<td data-label="Last used">${date(k.lastUsedAt)}</td>
<td data-label="State">${stateCell(k)}</td>
<td data-label="Actions">${k.revokedAt ? "" : html`<a href="/portal/keys/${k.id}/revoke" aria-label="Revoke ${k.name}">Revoke…</a>`}</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No API keys yet.</p>`}
<h2>Create an API key</h2>
<div class="card">
${formError(errors)}
<form method="post" action="/portal/keys" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "name", label: "Name", value: values.name, required: true, autocomplete: "off", errors })}
  <div class="field"><fieldset${errors?.role ? html` aria-describedby="f-role-error"` : ""}><legend>Role</legend>
    <div class="checks">
      <label for="f-role-standard"><input type="radio" id="f-role-standard" name="role" value="standard"${values.role === "standard" ? html` checked` : ""}> Standard: the scopes chosen below</label>
      <label for="f-role-agent"><input type="radio" id="f-role-agent" name="role" value="agent"${values.role === "agent" ? html` checked` : ""}> Agent: ${AGENT_SCOPES.join(", ")} only (the scopes below are ignored); it can never read a value</label>
    </div>
    ${errors?.role ? html`<p class="error" id="f-role-error">${errors.role}</p>` : ""}
  </fieldset></div>
  ${checkboxes({ name: "scopes", legend: "Scopes (standard keys)", hint: "secrets:reveal lets the key read secret values back; give it only where needed.", options: ALL_SCOPES.map((s) => ({ value: s, label: s, checked: values.scopes.includes(s) })), errors })}
  ${field({ name: "labels", label: "Scope labels (optional)", value: values.labels, hint: "Comma-separated, e.g. payments: named secrets with labels are revealed only to keys carrying them.", errors })}
  <button type="submit">Create key</button>
</form></div>
<h2>Mint an agent token</h2>
<div class="card">
<p class="muted">A short-lived agent key (${AGENT_SCOPES.join(", ")}) that expires by itself: hand it to an agent for one job.</p>
${formError(tokenErrors)}
<form method="post" action="/portal/keys/agent-token" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "agentName", label: "Agent name", value: token.agentName, required: true, autocomplete: "off", errors: tokenErrors })}
  <div class="field"><label for="f-ttl">Lifetime</label>
  <select id="f-ttl" name="ttl"${tokenErrors?.ttl ? html` aria-describedby="f-ttl-error" aria-invalid="true"` : ""}>${TTLS.map(([v, label]) => html`<option value="${v}"${v === token.ttl ? html` selected` : ""}>${label}</option>`)}</select>
  ${tokenErrors?.ttl ? html`<p class="error" id="f-ttl-error">${tokenErrors.ttl}</p>` : ""}</div>
  <button type="submit">Mint agent token</button>
</form></div>`;
  return r.page({ title: "API keys", nav: "keys", notice: noticeFor(r.url) }, body, status);
}

async function create(r: SignedInRequest): Promise<Response> {
  const role = text(r.form, "role") === "agent" ? "agent" : "standard";
  const values: KeyForm = { name: text(r.form, "name"), role, scopes: texts(r.form, "scopes"), labels: text(r.form, "labels") };
  // An agent key takes the agent scopes whatever boxes are ticked (the API's default for the role).
  const asked = role === "agent" || !values.scopes.length ? undefined : values.scopes;
  const parsed = CreateKeyBody.safeParse({ name: values.name, role, scopes: asked, labels: list(r.form, "labels") });
  if (!parsed.success) return keysPage(r, values, zodFieldErrors(parsed.error), 400);
  if (role === "standard" && !values.scopes.length) return keysPage(r, values, { scopes: "Choose at least one scope" }, 400);
  let created;
  try {
    await requireRole(r.ctx, r.ctx.team.id, "admin");
    created = await createApiKey(r.ctx, r.ctx.team.id, parsed.data.name, scopesForRole(role, parsed.data.scopes), parsed.data.labels ?? [], { role });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return keysPage(r, values, appFieldErrors(error), error.status);
    throw error;
  }
  // Shown here, once: the page is not cached and the key is never stored in clear.
  const body = html`<h1>API key created</h1>
<div class="card">
<p class="warning" role="alert"><strong>Copy this key now.</strong> It is shown only once and cannot be recovered: if you lose it, revoke it and create another.</p>
<p>Key <strong>${created.apiKey.name}</strong> (<code>${created.apiKey.prefix}</code>)${role === "agent" ? ", role agent" : ""}, scopes: ${created.apiKey.scopes.join(" ")}</p>
<code class="secret-once" id="new-key">${created.key}</code>
<div class="actions"><button type="button" data-copy="new-key" data-status="copy-status">Copy key</button><span id="copy-status" role="status" class="muted"></span></div>
<p><a href="/portal/keys">Done: back to API keys</a></p>
</div>`;
  return r.page({ title: "API key created", nav: "keys" }, body, 201);
}

async function mintToken(r: SignedInRequest): Promise<Response> {
  const token: AgentTokenForm = { agentName: text(r.form, "agentName"), ttl: text(r.form, "ttl") };
  const blank: KeyForm = { name: "", role: "standard", scopes: [...DEFAULT_SCOPES], labels: "" };
  const parsed = AgentTokenBody.safeParse({ name: token.agentName, ttl: token.ttl });
  if (!parsed.success) {
    const errors = zodFieldErrors(parsed.error);
    return keysPage(r, blank, undefined, 400, token, { ...(errors.name ? { agentName: errors.name } : {}), ...(errors.ttl ? { ttl: errors.ttl } : {}) });
  }
  let minted;
  try {
    minted = await mintAgentToken(await vaultContext(r), parsed.data);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return keysPage(r, blank, undefined, error.status, token, appFieldErrors(error, {}));
    throw error;
  }
  const body = html`<h1>Agent token minted</h1>
<div class="card">
<p class="warning" role="alert"><strong>Copy this token now.</strong> It is shown only once and expires by itself at ${date(minted.expiresAt)}.</p>
<p>Agent token <strong>${minted.apiKey.name}</strong> (<code>${minted.apiKey.prefix}</code>), scopes: ${minted.apiKey.scopes.join(" ")}</p>
<code class="secret-once" id="new-key">${minted.key}</code>
<div class="actions"><button type="button" data-copy="new-key" data-status="copy-status">Copy token</button><span id="copy-status" role="status" class="muted"></span></div>
<p><a href="/portal/keys">Done: back to API keys</a></p>
</div>`;
  return r.page({ title: "Agent token minted", nav: "keys" }, body, 201);
}

async function keyOfTeam(r: SignedInRequest) {
  const key = await getApiKey(r.ctx, r.params.keyId ?? "");
  // Another team's key and an unknown key look the same.
  if (!key || key.team_id !== r.ctx.team.id) throw new AppError("not_found", "API key not found");
  return key;
}

async function revokePage(r: SignedInRequest): Promise<Response> {
  const key = await keyOfTeam(r);
  const body = html`<p><a href="/portal/keys">← API keys</a></p>
<h1>Revoke ${key.name}?</h1>
<div class="card">
<p class="warning" role="alert">Requests with <code>${key.prefix}…</code> are refused from the next request on. Tasks it created keep their history. This cannot be undone.</p>
<form method="post" action="/portal/keys/${key.id}/revoke">
  ${csrfField(r.csrf)}
  <input type="hidden" name="confirm" value="${key.id}">
  <div class="actions"><button type="submit" class="danger">Revoke ${key.name}</button><a href="/portal/keys">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Revoke ${key.name}`, nav: "keys" }, body);
}

async function revoke(r: SignedInRequest): Promise<Response> {
  const key = await keyOfTeam(r);
  if (text(r.form, "confirm") !== key.id) return redirect(`/portal/keys/${key.id}/revoke`);
  await requireRole(r.ctx, key.team_id, "admin");
  await revokeApiKey(r.ctx, key.id);
  return redirect("/portal/keys?done=key-revoked");
}

export const keyRoutes: Route[] = [
  { method: "GET", path: "/portal/keys", auth: "user", handler: (r) => keysPage(r, { name: "", role: "standard", scopes: [...DEFAULT_SCOPES], labels: "" }) },
  { method: "POST", path: "/portal/keys", auth: "user", handler: create },
  { method: "POST", path: "/portal/keys/agent-token", auth: "user", handler: mintToken },
  { method: "GET", path: "/portal/keys/:keyId/revoke", auth: "user", handler: revokePage },
  { method: "POST", path: "/portal/keys/:keyId/revoke", auth: "user", handler: revoke },
];
