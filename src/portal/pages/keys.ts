import { CreateKeyBody } from "../../api/accounts";
import { ALL_SCOPES, DEFAULT_SCOPES } from "../../auth/scopes";
import { AppError } from "../../errors";
import { requireRole } from "../../teams/members";
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from "../../teams/teams";
import { redirect, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, checkboxes, field, formError, list, text, texts, zodFieldErrors, type FieldErrors } from "../forms";
import { html } from "../html";
import { csrfField } from "../layout";
import { badge, date, none, noticeFor } from "./common";

/** API keys: list, create (the key shown once), revoke after a confirmation; the accounts API's functions. */
interface KeyForm {
  name: string;
  scopes: string[];
  labels: string;
}

async function keysPage(r: SignedInRequest, values: KeyForm, errors?: FieldErrors, status = 200): Promise<Response> {
  await requireRole(r.ctx, r.ctx.team.id, "member");
  const keys = await listApiKeys(r.ctx, r.ctx.team.id);
  const body = html`<h1>API keys</h1>
${keys.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Scopes</th><th scope="col">Labels</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${keys.map(
        (k) => html`<tr data-key-id="${k.id}">
<td data-label="Name"><strong>${k.name}</strong></td>
<td data-label="Prefix"><code>${k.prefix}</code></td>
<td data-label="Scopes">${k.scopes.join(" ")}</td>
<td data-label="Labels">${k.labels.length ? k.labels.join(", ") : none}</td>
<td data-label="Created">${date(k.createdAt)}</td>
<td data-label="Last used">${date(k.lastUsedAt)}</td>
<td data-label="State">${k.revokedAt ? html`${badge("Revoked", "bad")} ${date(k.revokedAt)}` : badge("Active", "good")}</td>
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
  ${checkboxes({ name: "scopes", legend: "Scopes", hint: "secrets:reveal lets the key read secret values back; give it only where needed.", options: ALL_SCOPES.map((s) => ({ value: s, label: s, checked: values.scopes.includes(s) })), errors })}
  ${field({ name: "labels", label: "Scope labels (optional)", value: values.labels, hint: "Comma-separated, e.g. payments: named secrets with labels are revealed only to keys carrying them.", errors })}
  <button type="submit">Create key</button>
</form></div>`;
  return r.page({ title: "API keys", nav: "keys", notice: noticeFor(r.url) }, body, status);
}

async function create(r: SignedInRequest): Promise<Response> {
  const values: KeyForm = { name: text(r.form, "name"), scopes: texts(r.form, "scopes"), labels: text(r.form, "labels") };
  const parsed = CreateKeyBody.safeParse({ name: values.name, scopes: values.scopes.length ? values.scopes : undefined, labels: list(r.form, "labels") });
  if (!parsed.success) return keysPage(r, values, zodFieldErrors(parsed.error), 400);
  if (!values.scopes.length) return keysPage(r, values, { scopes: "Choose at least one scope" }, 400);
  let created;
  try {
    await requireRole(r.ctx, r.ctx.team.id, "admin");
    created = await createApiKey(r.ctx, r.ctx.team.id, parsed.data.name, parsed.data.scopes ?? DEFAULT_SCOPES, parsed.data.labels ?? []);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return keysPage(r, values, appFieldErrors(error), error.status);
    throw error;
  }
  // Shown here, once: the page is not cached and the key is never stored in clear.
  const body = html`<h1>API key created</h1>
<div class="card">
<p class="warning" role="alert"><strong>Copy this key now.</strong> It is shown only once and cannot be recovered: if you lose it, revoke it and create another.</p>
<p>Key <strong>${created.apiKey.name}</strong> (<code>${created.apiKey.prefix}</code>), scopes: ${created.apiKey.scopes.join(" ")}</p>
<code class="secret-once" id="new-key">${created.key}</code>
<div class="actions"><button type="button" data-copy="new-key" data-status="copy-status">Copy key</button><span id="copy-status" role="status" class="muted"></span></div>
<p><a href="/portal/keys">Done: back to API keys</a></p>
</div>`;
  return r.page({ title: "API key created", nav: "keys" }, body, 201);
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
  { method: "GET", path: "/portal/keys", auth: "user", handler: (r) => keysPage(r, { name: "", scopes: [...DEFAULT_SCOPES], labels: "" }) },
  { method: "POST", path: "/portal/keys", auth: "user", handler: create },
  { method: "GET", path: "/portal/keys/:keyId/revoke", auth: "user", handler: revokePage },
  { method: "POST", path: "/portal/keys/:keyId/revoke", auth: "user", handler: revoke },
];
