import type { Role } from "../teams/roles";
import { portalAssets } from "./assets";
import { CSRF_FIELD } from "./csrf";
import { html, type Html } from "./html";

/** The page frame: header (team switcher, sign out), navigation, main content. */
export interface Frame {
  title: string;
  /** The navigation entry to mark as current. */
  nav?: NavKey;
  /** Signed in: the user, their teams and the one acting for, and the CSRF token of this page's forms. */
  session?: { email: string; teams: { id: string; name: string; role: Role }[]; teamId: string | undefined; csrf: string };
  /** A fixed message shown once (after a redirect). */
  notice?: string | undefined;
  /** A page outside the portal's session (the OAuth completion page): no script, no navigation. */
  bare?: boolean;
}

/** Sections of the navigation; the services, proposals and OAuth pages add theirs here and in NAV. */
export type NavKey = "vault" | "keys" | "services" | "logs" | "leases" | "tasks" | "audit" | "proposals";

const NAV: [NavKey, string, string][] = [
  ["vault", "/portal/vault", "Vault"],
  ["proposals", "/portal/proposals", "Proposals"],
  ["keys", "/portal/keys", "API keys"],
  ["services", "/portal/services", "Services"],
  ["logs", "/portal/logs", "Request log"],
  ["leases", "/portal/leases", "Leases"],
  ["tasks", "/portal/tasks", "Tasks"],
  ["audit", "/portal/audit", "Audit"],
];

/** A hidden CSRF field for a form of the signed-in page. */
export const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

export async function layout(frame: Frame, body: Html): Promise<string> {
  const { css, js } = await portalAssets();
  const s = frame.session;
  const header = s
    ? html`<header class="top">
  <a class="brand" href="/portal/vault">Token Vault</a>
  ${s.teams.length > 0
    ? html`<form method="post" action="/portal/team">${csrfField(s.csrf)}
    <label for="team-switch">Team</label>
    <select id="team-switch" name="team" data-autosubmit>${s.teams.map((t) => html`<option value="${t.id}"${t.id === s.teamId ? html` selected` : ""}>${t.name} (${t.role})</option>`)}</select>
    <button type="submit" class="secondary">Switch</button>
  </form>`
    : ""}
  <span>${s.email}</span>
  <form method="post" action="/portal/logout">${csrfField(s.csrf)}<button type="submit" class="secondary">Sign out</button></form>
</header>
<nav class="main" aria-label="Sections">${NAV.map(([key, href, label]) => html`<a href="${href}"${frame.nav === key ? html` aria-current="page"` : ""}>${label}</a>`)}</nav>`
    : html`<header class="top"><a class="brand" href="${frame.bare ? "/portal/vault" : "/portal/login"}">Token Vault</a></header>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${frame.title} · Token Vault</title>
<link rel="stylesheet" href="${css.path}" integrity="${css.integrity}">
${frame.bare ? "" : html`<script src="${js.path}" integrity="${js.integrity}" defer></script>`}
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
${header}
<main id="content">
${frame.notice ? html`<p class="notice" role="status">${frame.notice}</p>` : ""}
${body}
</main>
</body>
</html>
`.value;
}
