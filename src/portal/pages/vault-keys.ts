import { z } from "zod";
import { CredentialValue } from "../../api/store";
import { AppError } from "../../errors";
import { CREDENTIAL_KEY } from "../../gateway/types";
import { deleteVaultKey, listVaultKeys, MAX_KEY_LENGTH, setVaultKeys } from "../../views/vault-keys";
import { redirect, type Route, type SignedInRequest } from "../app";
import { field, formError, text, type FieldErrors } from "../forms";
import { html } from "../html";
import { csrfField } from "../layout";
import { badge, date, noticeFor } from "./common";
import { vaultContext } from "./vault-context";

/**
 * Seed 003's vault credentials by KEY (/portal/vault/keys): set one or several at once, rotate
 * (an overwrite is a new version), delete after a confirmation. The same functions as
 * /v1/vaults/:vault/credentials; values go in password fields and are never rendered back.
 */
const ROWS = 5;

interface Row {
  key: string;
}

async function keysPage(r: SignedInRequest, rows: Row[], errors?: FieldErrors, status = 200): Promise<Response> {
  const ctx = await vaultContext(r);
  const { credentials } = await listVaultKeys(ctx, false);
  const body = html`<p><a href="/portal/vault">← Vault</a></p>
<h1>Vault KEYs</h1>
<p class="muted">Credentials the gateway injects by KEY (UPPER_SNAKE_CASE). Services name them; agents never read them.</p>
${credentials.length
    ? html`<div class="table-wrap"><table class="stack">
<caption class="muted">${credentials.length} KEY${credentials.length === 1 ? "" : "s"}; values are never shown.</caption>
<thead><tr><th scope="col">KEY</th><th scope="col">Type</th><th scope="col">Created</th><th scope="col">Last set</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${credentials.map(
        (c) => html`<tr data-key="${c.key}">
<td data-label="KEY"><strong><code>${c.key}</code></strong>${c.expired ? html` ${badge("Expired", "bad")}` : ""}</td>
<td data-label="Type">${c.type === "oauth" ? html`<a href="/portal/vault/oauth" aria-label="OAuth status of ${c.key}">OAuth</a>` : c.type}</td>
<td data-label="Created">${date(c.createdAt)}</td>
<td data-label="Last set">${date(c.updatedAt)}</td>
<td data-label="Actions"><a href="/portal/vault/keys/${c.key}/rotate" aria-label="Rotate ${c.key}">Rotate</a> · <a href="/portal/vault/keys/${c.key}/delete" aria-label="Delete ${c.key}">Delete…</a></td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No KEYs yet.</p>`}
<h2>Set KEYs</h2>
<div class="card">
<p class="muted">Fill one or several rows; all are saved together or none is. Setting an existing KEY saves a new version of it.</p>
${formError(errors)}
<form method="post" action="/portal/vault/keys" novalidate>
  ${csrfField(r.csrf)}
  ${rows.map(
    (row, i) => html`<div class="pair">
    ${field({ name: `key${i}`, label: `KEY ${i + 1}`, value: row.key, autocomplete: "off", ...(i === 0 ? { hint: "e.g. STRIPE_KEY" } : {}), errors })}
    ${field({ name: `value${i}`, label: `Value ${i + 1}`, type: "password", autocomplete: "new-password", errors })}
  </div>`,
  )}
  <button type="submit">Save KEYs</button>
</form></div>`;
  return r.page({ title: "Vault KEYs", nav: "vault", notice: noticeFor(r.url) }, body, status);
}

const emptyRows = (): Row[] => Array.from({ length: ROWS }, () => ({ key: "" }));

async function setKeys(r: SignedInRequest): Promise<Response> {
  const rows: Row[] = emptyRows().map((_, i) => ({ key: text(r.form, `key${i}`).trim() }));
  const values: Record<string, string> = {};
  const errors: FieldErrors = {};
  rows.forEach((row, i) => {
    const value = text(r.form, `value${i}`);
    if (!row.key && !value) return;
    if (!row.key) errors[`key${i}`] = "Name the KEY this value is for";
    else if (row.key.length > MAX_KEY_LENGTH || !CREDENTIAL_KEY.test(row.key)) errors[`key${i}`] = "KEYs are UPPER_SNAKE_CASE, e.g. STRIPE_KEY";
    else if (row.key in values) errors[`key${i}`] = "This KEY is already in another row";
    const parsed = z.object({ value: CredentialValue }).safeParse({ value });
    if (!parsed.success) errors[`value${i}`] = parsed.error.issues[0]?.message ?? "Invalid value";
    else if (row.key) values[row.key] = parsed.data.value;
  });
  if (Object.keys(errors).length === 0 && Object.keys(values).length === 0) errors.key0 = "Fill at least one KEY and its value";
  if (Object.keys(errors).length > 0) return keysPage(r, rows, errors, 400);
  try {
    await setVaultKeys(await vaultContext(r), values);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return keysPage(r, rows, { form: error.message }, error.status);
    throw error;
  }
  return redirect("/portal/vault/keys?done=keys-set");
}

/** The KEY of the path, as the vault has it (404 otherwise, like the API). */
async function keyOf(r: SignedInRequest) {
  const key = r.params.key ?? "";
  const { credentials } = await listVaultKeys(await vaultContext(r), false);
  const found = credentials.find((c) => c.key === key);
  if (!found) throw new AppError("not_found", "Credential not found");
  return found;
}

async function rotatePage(r: SignedInRequest, errors?: FieldErrors, status = 200): Promise<Response> {
  const c = await keyOf(r);
  const body = html`<p><a href="/portal/vault/keys">← Vault KEYs</a></p>
<h1>Rotate ${c.key}</h1>
<div class="card">
<p>The new value replaces the current one for every service that names <code>${c.key}</code> from the next request on.</p>
${formError(errors)}
<form method="post" action="/portal/vault/keys/${c.key}/rotate" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "value", label: "New value", type: "password", required: true, autocomplete: "new-password", errors })}
  <div class="actions"><button type="submit">Save new version</button><a href="/portal/vault/keys">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Rotate ${c.key}`, nav: "vault" }, body, status);
}

async function rotate(r: SignedInRequest): Promise<Response> {
  const c = await keyOf(r);
  const parsed = z.object({ value: CredentialValue }).safeParse({ value: text(r.form, "value") });
  if (!parsed.success) return rotatePage(r, { value: parsed.error.issues[0]?.message ?? "Invalid value" }, 400);
  try {
    await setVaultKeys(await vaultContext(r), { [c.key]: parsed.data.value });
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return rotatePage(r, { form: error.message }, error.status);
    throw error;
  }
  return redirect("/portal/vault/keys?done=rotated");
}

async function deletePage(r: SignedInRequest): Promise<Response> {
  const c = await keyOf(r);
  const body = html`<p><a href="/portal/vault/keys">← Vault KEYs</a></p>
<h1>Delete ${c.key}?</h1>
<div class="card">
<p class="warning" role="alert">This deletes <strong>${c.key}</strong> for good: every version's ciphertext is erased. Services that name it then fail at the proxy (502). This cannot be undone.</p>
<form method="post" action="/portal/vault/keys/${c.key}/delete">
  ${csrfField(r.csrf)}
  <input type="hidden" name="confirm" value="${c.key}">
  <div class="actions"><button type="submit" class="danger">Delete ${c.key} for good</button><a href="/portal/vault/keys">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Delete ${c.key}`, nav: "vault" }, body);
}

async function remove(r: SignedInRequest): Promise<Response> {
  const c = await keyOf(r);
  // The confirmation step's own form names the KEY: a post without it deletes nothing.
  if (text(r.form, "confirm") !== c.key) return redirect(`/portal/vault/keys/${c.key}/delete`);
  await deleteVaultKey(await vaultContext(r), c.key);
  return redirect("/portal/vault/keys?done=deleted");
}

/** Listed before the vault's `/portal/vault/:id` routes, which would otherwise take `keys` for an id. */
export const vaultKeyRoutes: Route[] = [
  { method: "GET", path: "/portal/vault/keys", auth: "user", handler: (r) => keysPage(r, emptyRows()) },
  { method: "POST", path: "/portal/vault/keys", auth: "user", handler: setKeys },
  { method: "GET", path: "/portal/vault/keys/:key/rotate", auth: "user", handler: (r) => rotatePage(r) },
  { method: "POST", path: "/portal/vault/keys/:key/rotate", auth: "user", handler: rotate },
  { method: "GET", path: "/portal/vault/keys/:key/delete", auth: "user", handler: deletePage },
  { method: "POST", path: "/portal/vault/keys/:key/delete", auth: "user", handler: remove },
];
