import { ConnectBody, PasteBody } from "../../api/oauth";
import { AppError } from "../../errors";
import { checkKeys } from "../../views/vault-keys";
import { listVaultKeys } from "../../views/vault-keys";
import { startConnect } from "../../oauth/connect";
import { oauthStatus, pasteTokens, type OAuthStatus } from "../../oauth/credentials";
import { htmlResponse, type Route, type SignedInRequest } from "../app";
import { appFieldErrors, field, formError, text, zodFieldErrors, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField, layout } from "../layout";
import { badge, date, none, noticeFor } from "./common";
import { vaultContext } from "./vault-context";

/**
 * OAuth credentials (/portal/vault/oauth): each OAuth KEY's status (connected, expiry, last
 * error, needs reconnect), Connect with a provider (the same `startConnect` as
 * /v1/vaults/:vault/credentials/:key/oauth/connect, then the browser goes to the provider), and
 * pasted tokens (`pasteTokens`). Client secrets and tokens go in password fields and are never
 * rendered back. The callback's completion page (/oauth/complete) is rendered here too, in the
 * portal's look.
 */
const AUTH_METHODS: [string, string][] = [
  ["client_secret_post", "Client secret in the body (client_secret_post)"],
  ["client_secret_basic", "HTTP Basic (client_secret_basic)"],
];

function statusCell(s: OAuthStatus): Html {
  if (s.needsReconnect) return badge("Needs reconnect", "bad");
  return s.connected ? badge("Connected", "good") : badge("Not connected", "bad");
}

async function oauthKeys(r: SignedInRequest) {
  const ctx = await vaultContext(r);
  const keys = (await listVaultKeys(ctx, false)).credentials.filter((c) => c.type === "oauth");
  return Promise.all(keys.map(async (k) => ({ key: k.key, status: await oauthStatus(ctx, k.key) })));
}

interface ConnectForm {
  key: string;
  authorization_url: string;
  token_url: string;
  client_id: string;
  scopes: string;
  token_auth_method: string;
}

const EMPTY_CONNECT: ConnectForm = { key: "", authorization_url: "", token_url: "", client_id: "", scopes: "", token_auth_method: "client_secret_post" };

function methodSelect(value: string, errors?: FieldErrors): Html {
  const error = errors?.token_auth_method;
  return html`<div class="field"><label for="f-token_auth_method">Token endpoint authentication</label>
<select id="f-token_auth_method" name="token_auth_method"${error ? html` aria-describedby="f-token_auth_method-error" aria-invalid="true"` : ""}>${AUTH_METHODS.map(([v, label]) => html`<option value="${v}"${v === value ? html` selected` : ""}>${label}</option>`)}</select>
${error ? html`<p class="error" id="f-token_auth_method-error">${error}</p>` : ""}</div>`;
}

async function oauthPage(r: SignedInRequest, values: ConnectForm, errors?: FieldErrors, status = 200): Promise<Response> {
  const rows = await oauthKeys(r);
  const wanted = r.url.searchParams.get("key");
  const form = wanted && !values.key ? { ...values, key: wanted } : values;
  const body = html`<p><a href="/portal/vault">← Vault</a></p>
<h1>OAuth connections</h1>
<p class="muted">OAuth credentials are vault KEYs whose value is an access token the vault refreshes by itself; services name them like any KEY.</p>
${rows.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">KEY</th><th scope="col">Status</th><th scope="col">Connected</th><th scope="col">Access token expires</th><th scope="col">Last refreshed</th><th scope="col">Last error</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${rows.map(
        ({ key, status: s }) => html`<tr data-oauth-key="${key}">
<td data-label="KEY"><strong><code>${key}</code></strong></td>
<td data-label="Status">${statusCell(s)}</td>
<td data-label="Connected">${date(s.connectedAt)}</td>
<td data-label="Access token expires">${date(s.expiresAt)}</td>
<td data-label="Last refreshed">${date(s.lastRefreshedAt)}</td>
<td data-label="Last error">${s.lastError ? html`<code>${s.lastError}</code>` : none}</td>
<td data-label="Actions"><a href="/portal/vault/oauth?key=${key}#connect" aria-label="Reconnect ${key}">Reconnect</a> · <a href="/portal/vault/oauth/paste?key=${key}" aria-label="Paste tokens for ${key}">Paste tokens</a></td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No OAuth credentials yet.</p>`}
<h2 id="connect">Connect with a provider</h2>
<div class="card">
<p class="muted">Register an OAuth app with the provider, with the redirect URI <code>${r.url.origin}/oauth/callback</code>; Connect sends you to the provider (Authorization Code with PKCE) and back.</p>
${formError(errors)}
<form method="post" action="/portal/vault/oauth/connect" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "key", label: "KEY", value: form.key, required: true, autocomplete: "off", hint: "UPPER_SNAKE_CASE, e.g. GITHUB; connecting an existing OAuth KEY again replaces its tokens.", errors })}
  ${field({ name: "authorization_url", label: "Authorization URL", value: form.authorization_url, required: true, autocomplete: "off", hint: "e.g. https://github.com/login/oauth/authorize", errors })}
  ${field({ name: "token_url", label: "Token URL", value: form.token_url, required: true, autocomplete: "off", hint: "e.g. https://github.com/login/oauth/access_token", errors })}
  ${field({ name: "client_id", label: "Client id", value: form.client_id, required: true, autocomplete: "off", errors })}
  ${field({ name: "client_secret", label: "Client secret (optional)", type: "password", autocomplete: "new-password", hint: "Sealed at once; never shown again.", errors })}
  ${field({ name: "scopes", label: "Scopes (optional)", value: form.scopes, autocomplete: "off", hint: "Space-separated, as the provider writes them, e.g. repo user", errors })}
  ${methodSelect(form.token_auth_method, errors)}
  <div class="actions"><button type="submit">Connect</button><a href="/portal/vault/oauth/paste">Paste tokens instead</a></div>
</form></div>`;
  return r.page({ title: "OAuth connections", nav: "vault", notice: noticeFor(r.url) }, body, status);
}

/** A domain error as field errors of these forms (a refused URL names its field). */
function oauthErrors(error: AppError): FieldErrors {
  if (error.code === "url_not_allowed") {
    const name = (error.details as { field?: string } | undefined)?.field;
    if (name) return { [name]: error.message };
  }
  if (error.code === "invalid_credential_key") return { key: "KEYs are UPPER_SNAKE_CASE, e.g. GITHUB" };
  return appFieldErrors(error);
}

async function connect(r: SignedInRequest): Promise<Response> {
  const values: ConnectForm = {
    key: text(r.form, "key").trim(),
    authorization_url: text(r.form, "authorization_url").trim(),
    token_url: text(r.form, "token_url").trim(),
    client_id: text(r.form, "client_id").trim(),
    scopes: text(r.form, "scopes").trim(),
    token_auth_method: text(r.form, "token_auth_method"),
  };
  const secret = text(r.form, "client_secret").trim();
  const parsed = ConnectBody.safeParse({
    authorization_url: values.authorization_url,
    token_url: values.token_url,
    client_id: values.client_id,
    ...(secret ? { client_secret: secret } : {}),
    ...(values.scopes ? { scopes: values.scopes } : {}),
    token_auth_method: values.token_auth_method,
  });
  const errors: FieldErrors = parsed.success ? {} : zodFieldErrors(parsed.error);
  try {
    checkKeys([values.key]);
  } catch {
    errors.key = "KEYs are UPPER_SNAKE_CASE, e.g. GITHUB";
  }
  if (!parsed.success || Object.keys(errors).length) return oauthPage(r, values, errors, 400);
  let started;
  try {
    started = await startConnect(await vaultContext(r), values.key, parsed.data, r.url.origin);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) return oauthPage(r, values, oauthErrors(error), error.status);
    throw error;
  }
  // Not a redirect: the portal's `form-action 'self'` would stop a form's redirect to another
  // origin. A link to the provider (followed at once by the page's script).
  const body = html`<h1>Continue to the provider</h1>
<div class="card">
<p>Connecting <code>${values.key}</code>: the provider asks you to allow access, then sends you back to the vault. The link works once, for 10 minutes (until ${date(started.expiresAt)}).</p>
<p><a class="button" id="oauth-continue" data-follow href="${started.authorizationUrl}">Continue to ${new URL(started.authorizationUrl).host}</a></p>
</div>`;
  return r.page({ title: "Continue to the provider", nav: "vault" }, body);
}

interface PasteForm {
  key: string;
  token_url: string;
  client_id: string;
  scopes: string;
  token_auth_method: string;
  expires_in: string;
}

async function pastePage(r: SignedInRequest, values: PasteForm, errors?: FieldErrors, status = 200): Promise<Response> {
  const wanted = r.url.searchParams.get("key");
  const form = wanted && !values.key ? { ...values, key: wanted } : values;
  const body = html`<p><a href="/portal/vault/oauth">← OAuth connections</a></p>
<h1>Paste OAuth tokens</h1>
<div class="card">
<p class="muted">For tokens you already have (from a CLI or an administrator). A refresh token is checked at once by refreshing it at the token URL: if the provider refuses it, nothing is stored.</p>
${formError(errors)}
<form method="post" action="/portal/vault/oauth/paste" novalidate>
  ${csrfField(r.csrf)}
  ${field({ name: "key", label: "KEY", value: form.key, required: true, autocomplete: "off", errors })}
  ${field({ name: "access_token", label: "Access token (optional with a refresh token)", type: "password", autocomplete: "new-password", errors })}
  ${field({ name: "refresh_token", label: "Refresh token (optional)", type: "password", autocomplete: "new-password", errors })}
  ${field({ name: "token_url", label: "Token URL (needed with a refresh token)", value: form.token_url, autocomplete: "off", errors })}
  ${field({ name: "client_id", label: "Client id (optional)", value: form.client_id, autocomplete: "off", errors })}
  ${field({ name: "client_secret", label: "Client secret (optional)", type: "password", autocomplete: "new-password", errors })}
  ${field({ name: "scopes", label: "Scopes (optional)", value: form.scopes, autocomplete: "off", errors })}
  ${methodSelect(form.token_auth_method, errors)}
  ${field({ name: "expires_in", label: "Access token valid for, seconds (optional)", value: form.expires_in, autocomplete: "off", errors })}
  <div class="actions"><button type="submit">Save tokens</button><a href="/portal/vault/oauth">Cancel</a></div>
</form></div>`;
  return r.page({ title: "Paste OAuth tokens", nav: "vault" }, body, status);
}

const EMPTY_PASTE: PasteForm = { key: "", token_url: "", client_id: "", scopes: "", token_auth_method: "client_secret_post", expires_in: "" };

async function paste(r: SignedInRequest): Promise<Response> {
  const values: PasteForm = {
    key: text(r.form, "key").trim(),
    token_url: text(r.form, "token_url").trim(),
    client_id: text(r.form, "client_id").trim(),
    scopes: text(r.form, "scopes").trim(),
    token_auth_method: text(r.form, "token_auth_method"),
    expires_in: text(r.form, "expires_in").trim(),
  };
  const secret = (name: string) => {
    const v = text(r.form, name).trim();
    return v ? { [name]: v } : {};
  };
  const errors: FieldErrors = {};
  if (values.expires_in && !/^\d{1,9}$/.test(values.expires_in)) errors.expires_in = "Seconds, e.g. 3600";
  const parsed = PasteBody.safeParse({
    ...secret("access_token"),
    ...secret("refresh_token"),
    ...secret("client_secret"),
    ...(values.token_url ? { token_url: values.token_url } : {}),
    ...(values.client_id ? { client_id: values.client_id } : {}),
    ...(values.scopes ? { scopes: values.scopes } : {}),
    token_auth_method: values.token_auth_method,
    ...(values.expires_in && !errors.expires_in ? { expires_in: Number(values.expires_in) } : {}),
  });
  if (!parsed.success) Object.assign(errors, zodFieldErrors(parsed.error));
  try {
    checkKeys([values.key]);
  } catch {
    errors.key = "KEYs are UPPER_SNAKE_CASE, e.g. GITHUB";
  }
  if (!parsed.success || Object.keys(errors).length) return pastePage(r, values, errors, 400);
  try {
    await pasteTokens(await vaultContext(r), values.key, parsed.data);
  } catch (error) {
    if (error instanceof AppError && error.status < 500) {
      const fieldErrors = error.code === "oauth_token_rejected" ? { refresh_token: error.message } : oauthErrors(error);
      return pastePage(r, values, fieldErrors, error.status);
    }
    throw error;
  }
  return new Response(null, { status: 303, headers: { location: "/portal/vault/oauth?done=oauth-saved", "cache-control": "no-store" } });
}

export const oauthRoutes: Route[] = [
  { method: "GET", path: "/portal/vault/oauth", auth: "user", handler: (r) => oauthPage(r, EMPTY_CONNECT) },
  { method: "POST", path: "/portal/vault/oauth/connect", auth: "user", handler: connect },
  { method: "GET", path: "/portal/vault/oauth/paste", auth: "user", handler: (r) => pastePage(r, EMPTY_PASTE) },
  { method: "POST", path: "/portal/vault/oauth/paste", auth: "user", handler: paste },
];

/**
 * The connect flow's completion page (/oauth/complete) in the portal's look: the frame without
 * navigation or script, every value escaped, a CSP that lets only the portal's stylesheet load.
 */
export const COMPLETE_PAGE_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function completePage(input: { status?: string | undefined; key?: string | undefined; error?: string | undefined; description?: string | undefined }): Promise<Response> {
  const success = input.status === "success";
  const key = input.key ? html`<p>Credential: <code>${input.key.slice(0, 100)}</code></p>` : "";
  const body = success
    ? html`<div class="card narrow" data-oauth-status="success"><h1>Connected</h1>${key}<p class="notice" role="status">The OAuth credential is connected. You can close this window.</p><p><a href="/portal/vault/oauth">Back to OAuth connections</a></p></div>`
    : html`<div class="card narrow" data-oauth-status="error"><h1>Connection failed</h1>${key}<p class="alert" role="alert">Error: <code>${(input.error ?? "unknown_error").slice(0, 64)}</code></p>${
        input.description ? html`<p>${input.description.slice(0, 300)}</p>` : ""
      }<p>Nothing was stored. Start the connection again from the vault.</p><p><a href="/portal/vault/oauth">Back to OAuth connections</a></p></div>`;
  const page = await layout({ title: success ? "Connected" : "Connection failed", bare: true }, body);
  return htmlResponse(page, 200, { "content-security-policy": COMPLETE_PAGE_CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" });
}
