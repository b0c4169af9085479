import { z } from "zod";
import { CredentialValue } from "../../api/store";
import { UpsertSecretBody } from "../../api/secrets";
import { AppError } from "../../errors";
import { listApiKeys } from "../../teams/teams";
import { requireRole } from "../../teams/members";
import { deleteCredential, rotateCredential } from "../../vault/credentials";
import { getInventoryItem, listInventory, type InventoryItem } from "../../vault/inventory";
import { assignSecret, deleteSecret, upsertSecret, type SecretOwner } from "../../vault/secrets";
import { revokeToken } from "../../vault/tokens";
import { redirect, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, checkboxes, field, formError, list, text, texts, zodFieldErrors, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField } from "../layout";
import { badge, date, none, noticeFor } from "./common";

/**
 * /portal/vault (seed 001's portal): every credential of the team, whatever view made it, with
 * add, assign, rotate and delete. Each action calls the function the API's route calls (named
 * secrets, credentials, tokens), so ownership, versions and audit rows are the store's own.
 * A value is accepted in a password field and never rendered back.
 */
const KIND_LABEL: Record<InventoryItem["kind"], string> = { token: "Token", secret: "Named secret", credential: "Credential", vault_key: "Vault KEY" };
const OWNER_LABEL: Record<InventoryItem["owner"], string> = { team: "Team (every key)", app: "App-level", user: "User-level (yours)" };

/** The owner a portal action on a named secret acts as: the team's app-level secrets, or the user's own. */
const ownerOf = (item: InventoryItem): SecretOwner => (item.owner === "app" ? "app" : "caller");

/** Changing anything the team's keys use takes the admin role (as API keys do via the API's admin routes); a user's own secret takes membership. */
async function requireWrite(r: SignedInRequest, item: Pick<InventoryItem, "owner">) {
  await requireRole(r.ctx, r.ctx.team.id, item.owner === "user" ? "member" : "admin");
}

const canRotate = (item: InventoryItem) => item.kind === "secret" || item.kind === "credential";
const canDelete = (item: InventoryItem) => item.kind !== "vault_key";

function typeCell(item: InventoryItem): Html {
  return html`${KIND_LABEL[item.kind]}${item.kind === "credential" || item.type !== "static" ? html` <span class="muted">(${item.type})</span>` : ""}`;
}

function assignedCell(item: InventoryItem): Html {
  if (item.owner === "team") return html`<span class="muted">All keys of the team</span>`;
  if (item.owner === "user") return html`<span class="muted">Only you (session)</span>`;
  return item.assignedKeys.length ? html`${item.assignedKeys.map((k, i) => html`${i ? ", " : ""}${k.name} <code>${k.prefix}</code>`)}` : html`<span class="muted">None</span>`;
}

function expiryCell(item: InventoryItem): Html {
  if (!item.expiresAt) return html`<span class="muted">Never</span>`;
  return html`${date(item.expiresAt)}${item.expired ? html` ${badge("Expired", "bad")}` : ""}`;
}

const hostsCell = (item: InventoryItem): Html => (item.allowedHosts ? html`${item.allowedHosts.join(", ")}` : html`<span class="muted">Any</span>`);

async function listPage(r: SignedInRequest): Promise<Response> {
  const items = await listInventory(r.ctx, r.user.userId);
  const table = items.length
    ? html`<div class="table-wrap"><table class="stack">
<caption class="muted">${items.length} credential${items.length === 1 ? "" : "s"}; values are never shown.</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Scope</th><th scope="col">Owner</th><th scope="col">Assigned keys</th><th scope="col">Created</th><th scope="col">Expiry</th><th scope="col">Version</th><th scope="col">Allowed hosts</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${items.map(
        (item) => html`<tr data-credential-id="${item.id}">
<td data-label="Name"><strong>${item.name}</strong><br><code class="muted">${item.id}</code></td>
<td data-label="Type">${typeCell(item)}</td>
<td data-label="Scope">${item.scope.length ? item.scope.join(", ") : none}</td>
<td data-label="Owner">${OWNER_LABEL[item.owner]}</td>
<td data-label="Assigned keys">${assignedCell(item)}</td>
<td data-label="Created">${date(item.createdAt)}</td>
<td data-label="Expiry">${expiryCell(item)}</td>
<td data-label="Version">v${item.currentVersion}${item.activeLeases ? html` <span class="muted">(${item.activeLeases} active lease${item.activeLeases === 1 ? "" : "s"})</span>` : ""}</td>
<td data-label="Allowed hosts">${hostsCell(item)}</td>
<td data-label="Actions"><a href="/portal/vault/${item.id}" aria-label="Manage ${item.name}">Manage</a></td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No credentials yet: add a secret with the button above, or store one through the API.</p>`;
  return r.page(
    { title: "Vault", nav: "vault", notice: noticeFor(r.url) },
    html`<div class="actions"><h1>Vault</h1><a class="button" href="/portal/vault/new">Add a secret</a><a class="button secondary" href="/portal/vault/keys">Vault KEYs</a><a class="button secondary" href="/portal/vault/oauth">OAuth connections</a></div>
<p class="muted">Every credential of the team: tokens, named secrets, credentials with leases and vault KEYs. Personal secrets of other members are not listed.</p>
${table}`,
  );
}

interface SecretForm {
  name: string;
  owner: "app" | "user";
  scope: string;
  expiresAt: string;
  allowedHosts: string;
  keys: string[];
}

async function activeKeys(r: SignedInRequest) {
  return (await listApiKeys(r.ctx, r.ctx.team.id)).filter((k) => !k.revokedAt);
}

async function newSecretPage(r: SignedInRequest, values: SecretForm, errors?: FieldErrors, status = 200): Promise<Response> {
  const keys = await activeKeys(r);
  const body = html`<h1>Add a secret</h1>
<div class="card">
${formError(errors)}
<form method="post" action="/portal/vault/new" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "name", label: "Name", value: values.name, required: true, hint: "Letters, digits, '_', '.' or '-', e.g. openai_api_key.", autocomplete: "off", errors })}
  ${field({ name: "value", label: "Value", type: "password", required: true, hint: "Encrypted at rest; never shown again after saving.", autocomplete: "new-password", errors })}
  <div class="field"><fieldset><legend>Owner</legend>
    <div class="checks">
      <label for="f-owner-app"><input type="radio" id="f-owner-app" name="owner" value="app"${values.owner === "app" ? html` checked` : ""}> App-level: shared, for the API keys it is assigned to</label>
      <label for="f-owner-user"><input type="radio" id="f-owner-user" name="owner" value="user"${values.owner === "user" ? html` checked` : ""}> User-level: yours only</label>
    </div>
    ${errors?.owner ? html`<p class="error">${errors.owner}</p>` : ""}
  </fieldset></div>
  ${field({ name: "scope", label: "Scope labels (optional)", value: values.scope, hint: "Comma-separated, e.g. payments. Only keys carrying every label can reveal it.", errors })}
  ${field({ name: "expiresAt", label: "Expires at, UTC (optional)", type: "datetime-local", value: values.expiresAt, errors })}
  ${field({ name: "allowedHosts", label: "Allowed hosts (optional)", value: values.allowedHosts, hint: "Comma-separated host names or *.example.com; empty: any host.", errors })}
  ${keys.length
    ? checkboxes({ name: "keys", legend: "Assign to API keys (app-level only)", options: keys.map((k) => ({ value: k.id, label: html`${k.name} <code>${k.prefix}</code>`, checked: values.keys.includes(k.id) })), errors })
    : html`<p class="muted">No active API keys to assign it to yet.</p>`}
  <div class="actions"><button type="submit">Save secret</button><a href="/portal/vault">Cancel</a></div>
</form>
</div>`;
  return r.page({ title: "Add a secret", nav: "vault" }, body, status);
}

const DATETIME_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

async function createSecret(r: SignedInRequest): Promise<Response> {
  const values: SecretForm = {
    name: text(r.form, "name").trim(),
    owner: text(r.form, "owner") === "user" ? "user" : "app",
    scope: text(r.form, "scope"),
    expiresAt: text(r.form, "expiresAt"),
    allowedHosts: text(r.form, "allowedHosts"),
    keys: texts(r.form, "keys"),
  };
  const expires = values.expiresAt.trim();
  if (expires && !DATETIME_LOCAL.test(expires)) return newSecretPage(r, values, { expiresAt: "must be a date and time" }, 400);
  const input = {
    name: values.name,
    value: text(r.form, "value"),
    ...(list(r.form, "scope").length ? { scope: list(r.form, "scope") } : {}),
    ...(expires ? { expiresAt: `${expires}Z` } : {}),
    ...(list(r.form, "allowedHosts").length ? { allowedHosts: list(r.form, "allowedHosts") } : {}),
  };
  const parsed = UpsertSecretBody.safeParse(input);
  if (!parsed.success) return newSecretPage(r, values, zodFieldErrors(parsed.error), 400);
  if (values.owner === "user" && values.keys.length) return newSecretPage(r, values, { keys: "A user-level secret cannot be assigned to API keys" }, 400);
  await requireWrite(r, { owner: values.owner });
  const as: SecretOwner = values.owner === "app" ? "app" : "caller";
  // "Add" never overwrites: an existing secret gets a new value through Rotate.
  const existing = (await listInventory(r.ctx, r.user.userId)).find((i) => i.kind === "secret" && i.name === parsed.data.name && (i.owner === "app") === (as === "app"));
  if (existing) return newSecretPage(r, values, { name: "A secret with this name exists: use Rotate on it to change its value" }, 409);
  const known = new Set((await activeKeys(r)).map((k) => k.id));
  if (values.keys.some((k) => !known.has(k))) return newSecretPage(r, values, { keys: "Choose active API keys of this team" }, 400);
  try {
    await upsertSecret(r.ctx, parsed.data, as);
    for (const keyId of values.keys) await assignSecret(r.ctx, parsed.data.name, keyId, true, as);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return newSecretPage(r, values, appFieldErrors(error, { name_taken: "name" }), error.status);
    throw error;
  }
  return redirect("/portal/vault?done=secret-added");
}

async function detailPage(r: SignedInRequest, item: InventoryItem, errors?: FieldErrors, status = 200): Promise<Response> {
  const keys = item.owner === "app" ? await activeKeys(r) : [];
  const assigned = new Set(item.assignedKeys.map((k) => k.id));
  const body = html`<p><a href="/portal/vault">← Vault</a></p>
<h1>${item.name}</h1>
${formError(errors)}
<div class="card"><dl class="meta">
  <dt>Type</dt><dd>${typeCell(item)}</dd>
  <dt>Id</dt><dd><code>${item.id}</code></dd>
  <dt>Owner</dt><dd>${OWNER_LABEL[item.owner]}</dd>
  <dt>Scope</dt><dd>${item.scope.length ? item.scope.join(", ") : none}</dd>
  <dt>Created</dt><dd>${date(item.createdAt)}</dd>
  <dt>Current version</dt><dd>v${item.currentVersion}${item.updatedAt ? html`, since ${date(item.updatedAt)}` : ""}</dd>
  <dt>Expiry</dt><dd>${expiryCell(item)}</dd>
  <dt>Allowed hosts</dt><dd>${hostsCell(item)}</dd>
  <dt>Active leases</dt><dd>${item.activeLeases ? html`<a href="/portal/leases">${item.activeLeases}</a>` : "0"}</dd>
  <dt>Value</dt><dd class="muted">Stored encrypted; never shown here.</dd>
</dl></div>
${item.owner === "app"
    ? html`<h2>Assigned API keys</h2><div class="card">${keys.length
        ? html`<form method="post" action="/portal/vault/${item.id}/assign">${csrfField(r.csrf)}
  ${checkboxes({ name: "keys", legend: "Keys that may use this secret", options: keys.map((k) => ({ value: k.id, label: html`${k.name} <code>${k.prefix}</code>`, checked: assigned.has(k.id) })), errors })}
  <button type="submit">Save assignments</button></form>`
        : html`<p>No active API keys. <a href="/portal/keys">Create one</a> first.</p>`}</div>`
    : ""}
<h2>Actions</h2>
<div class="actions">
  ${canRotate(item) ? html`<a class="button secondary" href="/portal/vault/${item.id}/rotate">Rotate (new value)</a>` : ""}
  ${canDelete(item) ? html`<a class="button danger" href="/portal/vault/${item.id}/delete">Delete…</a>` : html`<a class="button secondary" href="/portal/vault/keys">Manage vault KEYs</a>`}
</div>`;
  return r.page({ title: item.name, nav: "vault", notice: noticeFor(r.url) }, body, status);
}

const item = (r: SignedInRequest) => getInventoryItem(r.ctx, r.user.userId, r.params.id ?? "");

async function saveAssignments(r: SignedInRequest): Promise<Response> {
  const it = await item(r);
  if (it.owner !== "app" || it.kind !== "secret") throw new AppError("not_found", "Only app-level secrets are assigned to keys");
  await requireWrite(r, it);
  const wanted = new Set(texts(r.form, "keys"));
  const known = new Set((await activeKeys(r)).map((k) => k.id));
  if ([...wanted].some((k) => !known.has(k))) return detailPage(r, it, { keys: "Choose active API keys of this team" }, 400);
  const current = new Set(it.assignedKeys.map((k) => k.id));
  for (const keyId of wanted) if (!current.has(keyId)) await assignSecret(r.ctx, it.name, keyId, true, "app");
  for (const keyId of current) if (!wanted.has(keyId)) await assignSecret(r.ctx, it.name, keyId, false, "app");
  return redirect(`/portal/vault/${it.id}?done=assigned`);
}

async function rotatePage(r: SignedInRequest, it: InventoryItem, errors?: FieldErrors, status = 200): Promise<Response> {
  const body = html`<p><a href="/portal/vault/${it.id}">← ${it.name}</a></p>
<h1>Rotate ${it.name}</h1>
<div class="card">
<p>The new value becomes version v${it.currentVersion + 1}. ${it.kind === "credential" ? "Leases and tasks holding the current version keep it until they end." : "Tasks holding the current version keep it until they end."}</p>
${formError(errors)}
<form method="post" action="/portal/vault/${it.id}/rotate" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "value", label: "New value", type: "password", required: true, autocomplete: "new-password", errors })}
  <div class="actions"><button type="submit">Save new version</button><a href="/portal/vault/${it.id}">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Rotate ${it.name}`, nav: "vault" }, body, status);
}

async function rotate(r: SignedInRequest): Promise<Response> {
  const it = await item(r);
  if (!canRotate(it)) throw new AppError("not_found", "This credential cannot be rotated here");
  await requireWrite(r, it);
  const value = z.object({ value: CredentialValue }).safeParse({ value: text(r.form, "value") });
  if (!value.success) return rotatePage(r, it, zodFieldErrors(value.error), 400);
  try {
    if (it.kind === "secret") {
      // An upsert of the same name: a new version, its scope, expiry and hosts kept as they are.
      await upsertSecret(
        r.ctx,
        { name: it.name, value: value.data.value, scope: it.scope, ...(it.expiresAt ? { expiresAt: it.expiresAt } : {}), ...(it.allowedHosts ? { allowedHosts: it.allowedHosts } : {}) },
        ownerOf(it),
      );
    } else {
      await rotateCredential(r.ctx, it.name, { newValue: value.data.value });
    }
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return rotatePage(r, it, appFieldErrors(error, { value_prefix_mismatch: "value" }), error.status);
    throw error;
  }
  return redirect(`/portal/vault/${it.id}?done=rotated`);
}

async function deletePage(r: SignedInRequest): Promise<Response> {
  const it = await item(r);
  if (!canDelete(it)) throw new AppError("not_found", "This credential cannot be deleted here");
  const body = html`<p><a href="/portal/vault/${it.id}">← ${it.name}</a></p>
<h1>Delete ${it.name}?</h1>
<div class="card">
<p class="warning" role="alert">This deletes <strong>${it.name}</strong> for good: every version's ciphertext is erased${it.kind === "credential" ? " and its active leases are revoked" : ""}. Tasks and keys using it will fail. This cannot be undone.</p>
<form method="post" action="/portal/vault/${it.id}/delete">
  ${csrfField(r.csrf)}
  <input type="hidden" name="confirm" value="${it.id}">
  <div class="actions"><button type="submit" class="danger">Delete ${it.name} for good</button><a href="/portal/vault/${it.id}">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Delete ${it.name}`, nav: "vault" }, body);
}

async function remove(r: SignedInRequest): Promise<Response> {
  const it = await item(r);
  if (!canDelete(it)) throw new AppError("not_found", "This credential cannot be deleted here");
  // The confirmation step's own form names the credential: a post without it deletes nothing.
  if (text(r.form, "confirm") !== it.id) return redirect(`/portal/vault/${it.id}/delete`);
  await requireWrite(r, it);
  if (it.kind === "secret") await deleteSecret(r.ctx, it.name, ownerOf(it));
  else if (it.kind === "credential") await deleteCredential(r.ctx, it.name);
  else await revokeToken(r.ctx, it.id);
  return redirect("/portal/vault?done=deleted");
}

export const vaultRoutes: Route[] = [
  { method: "GET", path: "/portal/vault", auth: "user", handler: listPage },
  { method: "GET", path: "/portal/vault/new", auth: "user", handler: (r) => newSecretPage(r, { name: "", owner: "app", scope: "", expiresAt: "", allowedHosts: "", keys: [] }) },
  { method: "POST", path: "/portal/vault/new", auth: "user", handler: createSecret },
  { method: "GET", path: "/portal/vault/:id", auth: "user", handler: async (r) => detailPage(r, await item(r)) },
  { method: "POST", path: "/portal/vault/:id/assign", auth: "user", handler: saveAssignments },
  { method: "GET", path: "/portal/vault/:id/rotate", auth: "user", handler: async (r) => rotatePage(r, await item(r)) },
  { method: "POST", path: "/portal/vault/:id/rotate", auth: "user", handler: rotate },
  { method: "GET", path: "/portal/vault/:id/delete", auth: "user", handler: deletePage },
  { method: "POST", path: "/portal/vault/:id/delete", auth: "user", handler: remove },
];
