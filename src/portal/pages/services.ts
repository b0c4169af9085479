import { PatchVaultBody, ServiceBody } from "../../api/vaults";
import type { VaultContext } from "../../context";
import { AppError } from "../../errors";
import { deleteService, listServices, upsertService } from "../../gateway/services";
import type { Service, ServiceAuth, ServiceAuthType } from "../../gateway/types";
import { getVault, updateVault } from "../../teams/vaults";
import { listVaultKeys } from "../../views/vault-keys";
import { redirect, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, field, formError, text, zodFieldErrors, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField } from "../layout";
import { badge, date, noticeFor } from "./common";
import { vaultContext } from "./vault-context";

/**
 * Services (/portal/services): which KEY goes to which host. List, add, edit, enable/disable and
 * delete through the functions /v1/vaults/:vault/services calls (admins and owners write, as
 * there), and the vault's settings (slug, what the proxy does with unmatched requests).
 */
const AUTH_TYPES: [ServiceAuthType, string][] = [
  ["bearer", "Bearer token (Authorization: Bearer KEY)"],
  ["basic", "Basic (username and password KEYs)"],
  ["api-key", "API key in a header (with an optional prefix)"],
  ["custom", "Custom header templates"],
  ["passthrough", "Passthrough (no credential injected)"],
];

/** The form's fields, as typed (KEYs by name; never a value). */
interface ServiceForm {
  name: string;
  host: string;
  enabled: boolean;
  authType: ServiceAuthType;
  token: string;
  username: string;
  password: string;
  apiKey: string;
  header: string;
  prefix: string;
  headers: string;
}

const EMPTY: ServiceForm = { name: "", host: "", enabled: true, authType: "bearer", token: "", username: "", password: "", apiKey: "", header: "Authorization", prefix: "", headers: "" };

function formOf(service: Service): ServiceForm {
  const a = service.auth;
  return {
    ...EMPTY,
    name: service.name,
    host: service.host,
    enabled: service.enabled,
    authType: a.type,
    ...(a.type === "bearer" ? { token: a.token } : {}),
    ...(a.type === "basic" ? { username: a.username, password: a.password } : {}),
    ...(a.type === "api-key" ? { apiKey: a.key, header: a.header, prefix: a.prefix ?? "" } : {}),
    ...(a.type === "custom" ? { headers: Object.entries(a.headers).map(([k, v]) => `${k}: ${v}`).join("\n") } : {}),
  };
}

function authSummary(auth: ServiceAuth): Html {
  switch (auth.type) {
    case "bearer":
      return html`Bearer <code>${auth.token}</code>`;
    case "basic":
      return html`Basic <code>${auth.username}</code> / <code>${auth.password}</code>`;
    case "api-key":
      return html`<code>${auth.header}: ${auth.prefix ?? ""}</code><code>${auth.key}</code>`;
    case "custom":
      return html`Custom: ${Object.keys(auth.headers).map((h, i) => html`${i ? ", " : ""}<code>${h}</code>`)}`;
    case "passthrough":
      return html`Passthrough`;
  }
}

const isWriter = (r: SignedInRequest) => r.role === "admin" || r.role === "owner";

async function listPage(r: SignedInRequest, settingsErrors?: FieldErrors, settingsValues?: { slug: string; unmatchedPolicy: string }, status = 200): Promise<Response> {
  const ctx = await vaultContext(r);
  const [{ services }, vault] = await Promise.all([listServices(ctx), getVault(ctx)]);
  const writer = isWriter(r);
  const slug = settingsValues?.slug ?? vault.slug;
  const policy = settingsValues?.unmatchedPolicy ?? vault.unmatchedPolicy;
  const body = html`<div class="actions"><h1>Services</h1>${writer ? html`<a class="button" href="/portal/services/new">Add a service</a>` : ""}</div>
<p class="muted">Requests the proxy forwards to a matching host get the service's credential injected. Services name KEYs of the vault, never values.</p>
${services.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Name</th><th scope="col">Host</th><th scope="col">Auth</th><th scope="col">State</th><th scope="col">Updated</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${services.map(
        (s) => html`<tr data-service="${s.name}">
<td data-label="Name"><strong>${s.name}</strong></td>
<td data-label="Host"><code>${s.host}</code></td>
<td data-label="Auth">${authSummary(s.auth)}</td>
<td data-label="State">${s.enabled ? badge("Enabled", "good") : badge("Disabled", "bad")}</td>
<td data-label="Updated">${date(s.updatedAt)}</td>
<td data-label="Actions">${writer
          ? html`<div class="actions"><a href="/portal/services/edit?name=${encodeURIComponent(s.name)}" aria-label="Edit ${s.name}">Edit</a>
<form method="post" action="/portal/services/toggle">${csrfField(r.csrf)}<input type="hidden" name="name" value="${s.name}"><input type="hidden" name="enabled" value="${s.enabled ? "false" : "true"}"><button type="submit" class="secondary" aria-label="${s.enabled ? "Disable" : "Enable"} ${s.name}">${s.enabled ? "Disable" : "Enable"}</button></form>
<a href="/portal/services/delete?name=${encodeURIComponent(s.name)}" aria-label="Delete ${s.name}">Delete…</a></div>`
          : html`<span class="muted">Admins and owners edit</span>`}</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No services yet.${writer ? " Add one to let agents call a host through the proxy." : ""}</p>`}
<h2 id="settings">Vault settings</h2>
<div class="card">
${writer
    ? html`${formError(settingsErrors)}
<form method="post" action="/portal/services/settings" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "slug", label: "Vault slug", value: slug, required: true, autocomplete: "off", hint: "Names the vault in /v1/vaults/:vault; lowercase letters, digits and single hyphens.", errors: settingsErrors })}
  <div class="field"><fieldset${settingsErrors?.unmatchedPolicy ? html` aria-describedby="f-unmatchedPolicy-error"` : ""}><legend>Requests no service matches</legend>
    <div class="checks">
      <label for="f-policy-deny"><input type="radio" id="f-policy-deny" name="unmatchedPolicy" value="deny"${policy === "deny" ? html` checked` : ""}> Deny (refused by the proxy)</label>
      <label for="f-policy-passthrough"><input type="radio" id="f-policy-passthrough" name="unmatchedPolicy" value="passthrough"${policy === "passthrough" ? html` checked` : ""}> Passthrough (forwarded without a credential)</label>
    </div>
    ${settingsErrors?.unmatchedPolicy ? html`<p class="error" id="f-unmatchedPolicy-error">${settingsErrors.unmatchedPolicy}</p>` : ""}
  </fieldset></div>
  <button type="submit">Save settings</button>
</form>`
    : html`<dl class="meta"><dt>Vault slug</dt><dd><code>${vault.slug}</code></dd><dt>Requests no service matches</dt><dd>${vault.unmatchedPolicy === "deny" ? "Deny" : "Passthrough"}</dd></dl>
<p class="muted">Admins and owners change these.</p>`}
</div>`;
  return r.page({ title: "Services", nav: "services", notice: noticeFor(r.url) }, body, status);
}

function keyPicker(name: string, label: string, value: string, keys: string[], errors?: FieldErrors): Html {
  const error = errors?.[name];
  const options = value && !keys.includes(value) ? [...keys, value] : keys;
  return html`<div class="field"><label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}"${error ? html` aria-describedby="f-${name}-error" aria-invalid="true"` : ""}>
<option value="">Choose a KEY</option>
${options.map((k) => html`<option value="${k}"${k === value ? html` selected` : ""}>${k}${keys.includes(k) ? "" : " (not in the vault)"}</option>`)}
</select>
${error ? html`<p class="error" id="f-${name}-error">${error}</p>` : ""}</div>`;
}

async function formPage(r: SignedInRequest, mode: "new" | "edit", values: ServiceForm, errors?: FieldErrors, status = 200): Promise<Response> {
  const ctx = await vaultContext(r, "admin");
  const keys = (await listVaultKeys(ctx, false)).credentials.map((c) => c.key);
  const action = mode === "new" ? "/portal/services/new" : `/portal/services/edit?name=${encodeURIComponent(values.name)}`;
  const title = mode === "new" ? "Add a service" : `Edit ${values.name}`;
  const typeError = errors?.authType;
  const body = html`<p><a href="/portal/services">← Services</a></p>
<h1>${title}</h1>
<div class="card">
${formError(errors)}
${keys.length ? "" : html`<p class="warning">The vault has no KEYs yet: <a href="/portal/vault/keys">set one</a> before a service can name it (passthrough needs none).</p>`}
<form method="post" action="${action}" novalidate>
  ${csrfField(r.csrf)}
  ${mode === "new"
    ? field({ name: "name", label: "Name", value: values.name, required: true, autocomplete: "off", hint: "Letters, digits, '_', '.' or '-', e.g. stripe.", errors })
    : html`<input type="hidden" name="name" value="${values.name}"><p>Name: <strong>${values.name}</strong></p>`}
  ${field({ name: "host", label: "Host pattern", value: values.host, required: true, autocomplete: "off", hint: "api.stripe.com, *.github.com (one level), slack.com/api/*, api.example.com:8443", errors })}
  <div class="field"><label for="f-enabled"><input type="checkbox" id="f-enabled" name="enabled" value="true"${values.enabled ? html` checked` : ""}> Enabled</label></div>
  <div class="field"><label for="f-authType">Auth type</label>
  <select id="f-authType" name="authType" data-auth-type${typeError ? html` aria-describedby="f-authType-error" aria-invalid="true"` : ""}>${AUTH_TYPES.map(([t, label]) => html`<option value="${t}"${t === values.authType ? html` selected` : ""}>${label}</option>`)}</select>
  ${typeError ? html`<p class="error" id="f-authType-error">${typeError}</p>` : ""}</div>
  <fieldset class="auth" data-auth-for="bearer"><legend>Bearer</legend>
    ${keyPicker("token", "Token KEY", values.token, keys, errors)}
  </fieldset>
  <fieldset class="auth" data-auth-for="basic"><legend>Basic</legend>
    ${keyPicker("username", "Username KEY", values.username, keys, errors)}
    ${keyPicker("password", "Password KEY", values.password, keys, errors)}
  </fieldset>
  <fieldset class="auth" data-auth-for="api-key"><legend>API key header</legend>
    ${keyPicker("apiKey", "API key KEY", values.apiKey, keys, errors)}
    ${field({ name: "header", label: "Header name", value: values.header, autocomplete: "off", errors })}
    ${field({ name: "prefix", label: "Prefix (optional)", value: values.prefix, autocomplete: "off", hint: "Put before the value, e.g. 'Token ' (with its space).", errors })}
  </fieldset>
  <fieldset class="auth" data-auth-for="custom"><legend>Custom headers</legend>
    ${field({ name: "headers", label: "Header templates", value: values.headers, multiline: true, autocomplete: "off", hint: `One per line, "Header-Name: template"; {{ KEY }} is replaced by the KEY's value.${keys.length ? ` KEYs: ${keys.join(", ")}.` : ""}`, errors })}
  </fieldset>
  <div class="actions"><button type="submit">Save service</button><a href="/portal/services">Cancel</a></div>
</form></div>`;
  return r.page({ title, nav: "services" }, body, status);
}

function readForm(form: FormData): ServiceForm {
  const type = text(form, "authType");
  return {
    name: text(form, "name").trim(),
    host: text(form, "host").trim(),
    enabled: text(form, "enabled") === "true",
    authType: (AUTH_TYPES.find(([t]) => t === type)?.[0] ?? "bearer"),
    token: text(form, "token"),
    username: text(form, "username"),
    password: text(form, "password"),
    apiKey: text(form, "apiKey"),
    header: text(form, "header").trim(),
    prefix: text(form, "prefix"),
    headers: text(form, "headers"),
  };
}

/** The form as the API's body (only the chosen auth type's fields), or field errors. */
function bodyOf(values: ServiceForm): { ok: true; service: Service } | { ok: false; errors: FieldErrors } {
  let auth: Record<string, unknown>;
  switch (values.authType) {
    case "bearer":
      auth = { type: "bearer", token: values.token };
      break;
    case "basic":
      auth = { type: "basic", username: values.username, password: values.password };
      break;
    case "api-key":
      auth = { type: "api-key", key: values.apiKey, header: values.header || "Authorization", ...(values.prefix ? { prefix: values.prefix } : {}) };
      break;
    case "custom": {
      const headers: Record<string, string> = {};
      for (const line of values.headers.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
        const colon = line.indexOf(":");
        if (colon <= 0) return { ok: false, errors: { headers: 'Write each header as "Header-Name: template"' } };
        headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      }
      auth = { type: "custom", headers };
      break;
    }
    case "passthrough":
      auth = { type: "passthrough" };
  }
  const parsed = ServiceBody.safeParse({ name: values.name, host: values.host, enabled: values.enabled, auth });
  if (parsed.success) return { ok: true, service: parsed.data as Service };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const [first, second] = issue.path.map(String);
    const name = first === "auth" ? (second === "key" ? "apiKey" : second === "type" || second === undefined ? "authType" : second) : (first ?? "form");
    errors[name] ??= missingKeyMessage(issue.message);
  }
  return { ok: false, errors };
}

const missingKeyMessage = (message: string) => (/UPPER_SNAKE_CASE/.test(message) ? "Choose a KEY of the vault" : message);

/** The auth fields of the chosen type that name `keys` (where a credential_not_found error goes). */
function fieldsNaming(values: ServiceForm, keys: string[]): string[] {
  const byType: Record<ServiceAuthType, string[]> = { bearer: ["token"], basic: ["username", "password"], "api-key": ["apiKey"], custom: [], passthrough: [] };
  const fields = byType[values.authType].filter((f) => keys.includes(values[f as "token"]));
  return values.authType === "custom" && keys.length ? ["headers"] : fields;
}

async function save(r: SignedInRequest, mode: "new" | "edit"): Promise<Response> {
  const values = readForm(r.form);
  if (mode === "edit") values.name = r.url.searchParams.get("name") ?? values.name;
  const checked = bodyOf(values);
  if (!checked.ok) return formPage(r, mode, values, checked.errors, 400);
  let ctx: VaultContext;
  try {
    ctx = await vaultContext(r, "admin");
    const existing = (await listServices(ctx)).services.some((s) => s.name === checked.service.name);
    if (mode === "new" && existing) return formPage(r, mode, values, { name: "A service with this name exists: edit it instead" }, 409);
    if (mode === "edit" && !existing) throw new AppError("not_found", "Service not found");
    await upsertService(ctx, checked.service);
  } catch (error) {
    if (error instanceof AppError && error.status < 500 && error.code !== "not_found") {
      if (error.code === "credential_not_found") {
        const missing = (error.details as { keys?: string[] } | undefined)?.keys ?? [];
        const fields = fieldsNaming(values, missing);
        if (fields.length) return formPage(r, mode, values, Object.fromEntries(fields.map((f) => [f, error.message])), 400);
      }
      return formPage(r, mode, values, appFieldErrors(error), error.status);
    }
    throw error;
  }
  return redirect("/portal/services?done=service-saved");
}

async function serviceNamed(r: SignedInRequest, name: string): Promise<{ ctx: VaultContext; service: Service }> {
  const ctx = await vaultContext(r, "admin");
  const service = (await listServices(ctx)).services.find((s) => s.name === name);
  if (!service) throw new AppError("not_found", "Service not found");
  return { ctx, service };
}

async function toggle(r: SignedInRequest): Promise<Response> {
  const { ctx, service } = await serviceNamed(r, text(r.form, "name"));
  const enabled = text(r.form, "enabled") === "true";
  await upsertService(ctx, { name: service.name, host: service.host, enabled, auth: service.auth });
  return redirect(`/portal/services?done=${enabled ? "service-enabled" : "service-disabled"}`);
}

async function deletePage(r: SignedInRequest): Promise<Response> {
  const { service } = await serviceNamed(r, r.url.searchParams.get("name") ?? "");
  const body = html`<p><a href="/portal/services">← Services</a></p>
<h1>Delete ${service.name}?</h1>
<div class="card">
<p class="warning" role="alert">Requests to <code>${service.host}</code> will no longer get <strong>${service.name}</strong>'s credential (the vault's unmatched-request policy applies to them). This cannot be undone.</p>
<form method="post" action="/portal/services/delete">
  ${csrfField(r.csrf)}
  <input type="hidden" name="name" value="${service.name}">
  <input type="hidden" name="confirm" value="${service.name}">
  <div class="actions"><button type="submit" class="danger">Delete ${service.name}</button><a href="/portal/services">Cancel</a></div>
</form></div>`;
  return r.page({ title: `Delete ${service.name}`, nav: "services" }, body);
}

async function remove(r: SignedInRequest): Promise<Response> {
  const name = text(r.form, "name");
  if (!name || text(r.form, "confirm") !== name) return redirect(`/portal/services/delete?name=${encodeURIComponent(name)}`);
  await deleteService(await vaultContext(r, "admin"), name);
  return redirect("/portal/services?done=service-deleted");
}

async function saveSettings(r: SignedInRequest): Promise<Response> {
  const values = { slug: text(r.form, "slug").trim(), unmatchedPolicy: text(r.form, "unmatchedPolicy") };
  const parsed = PatchVaultBody.safeParse({ slug: values.slug, ...(values.unmatchedPolicy ? { unmatchedPolicy: values.unmatchedPolicy } : {}) });
  if (!parsed.success) return listPage(r, zodFieldErrors(parsed.error), values, 400);
  try {
    await updateVault(await vaultContext(r, "admin"), parsed.data);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return listPage(r, appFieldErrors(error, { slug_taken: "slug" }), values, error.status);
    throw error;
  }
  return redirect("/portal/services?done=settings-saved");
}

async function editPage(r: SignedInRequest): Promise<Response> {
  const { service } = await serviceNamed(r, r.url.searchParams.get("name") ?? "");
  return formPage(r, "edit", formOf(service));
}

export const serviceRoutes: Route[] = [
  { method: "GET", path: "/portal/services", auth: "user", handler: (r) => listPage(r) },
  { method: "GET", path: "/portal/services/new", auth: "user", handler: (r) => formPage(r, "new", EMPTY) },
  { method: "POST", path: "/portal/services/new", auth: "user", handler: (r) => save(r, "new") },
  { method: "GET", path: "/portal/services/edit", auth: "user", handler: editPage },
  { method: "POST", path: "/portal/services/edit", auth: "user", handler: (r) => save(r, "edit") },
  { method: "POST", path: "/portal/services/toggle", auth: "user", handler: toggle },
  { method: "GET", path: "/portal/services/delete", auth: "user", handler: deletePage },
  { method: "POST", path: "/portal/services/delete", auth: "user", handler: remove },
  { method: "POST", path: "/portal/services/settings", auth: "user", handler: saveSettings },
];
