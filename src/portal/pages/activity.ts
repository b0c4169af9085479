import { AuditQuery } from "../../api/audit";
import { TaskListQuery } from "../../api/tasks";
import { AUDIT_ACTIONS, listAuditEntries } from "../../audit/audit";
import { AppError } from "../../errors";
import { requireRole } from "../../teams/members";
import { TASK_STATUSES } from "../../tasks/model";
import { listTasks } from "../../tasks/service";
import { listLeases, revokeLease } from "../../vault/leases";
import { redirect, type Route, type SignedInRequest } from "../app";
import { field, text, zodFieldErrors, type FieldErrors } from "../forms";
import { html, type Html } from "../html";
import { csrfField } from "../layout";
import { badge, date, none, noticeFor } from "./common";

/** Audit, Tasks and Leases: the API's list functions, read by team members; lease revocation by admins. */
const PAGE_SIZE = 50;

function select(name: string, label: string, options: readonly string[], value: string | undefined, errors?: FieldErrors): Html {
  return html`<div class="field"><label for="f-${name}">${label}</label>
<select id="f-${name}" name="${name}"><option value="">Any</option>${options.map((o) => html`<option value="${o}"${o === value ? html` selected` : ""}>${o}</option>`)}</select>
${errors?.[name] ? html`<p class="error">${errors[name]}</p>` : ""}</div>`;
}

/** Links to the newest page and to the next (older) one, keeping the filters. */
export function pager(url: URL, nextCursor: string | null, total: number): Html {
  const older = new URL(url);
  older.searchParams.delete("done");
  if (nextCursor) older.searchParams.set("cursor", nextCursor);
  const newest = new URL(older);
  newest.searchParams.delete("cursor");
  return html`<nav class="pager" aria-label="Pages"><span class="muted">${total} in all</span>
${url.searchParams.has("cursor") ? html`<a href="${newest.pathname + newest.search}">Newest</a>` : ""}
${nextCursor ? html`<a href="${older.pathname + older.search}">Older →</a>` : ""}</nav>`;
}

export const queryOf = (url: URL) => Object.fromEntries([...url.searchParams].filter(([k, v]) => v !== "" && k !== "done"));

async function auditPage(r: SignedInRequest): Promise<Response> {
  await requireRole(r.ctx, r.ctx.team.id, "member");
  const parsed = AuditQuery.safeParse({ ...queryOf(r.url), limit: PAGE_SIZE });
  const errors = parsed.success ? undefined : zodFieldErrors(parsed.error);
  const { entries, pagination } = parsed.success ? await listAuditEntries(r.ctx, parsed.data) : { entries: [], pagination: { total: 0, nextCursor: null } };
  const body = html`<h1>Audit</h1>
<form method="get" action="/portal/audit" class="filters card">
  ${select("action", "Action", AUDIT_ACTIONS, r.url.searchParams.get("action") ?? undefined, errors)}
  ${field({ name: "targetId", label: "Target id", type: "search", value: r.url.searchParams.get("targetId") ?? "", errors })}
  <button type="submit">Filter</button>
</form>
${entries.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Details</th></tr></thead>
<tbody>${entries.map(
        (e) => html`<tr>
<td data-label="When">${date(e.createdAt)}</td>
<td data-label="Action"><code>${e.action}</code></td>
<td data-label="Actor">${e.actor.type} <code>${e.actor.id}</code></td>
<td data-label="Target">${e.target.type} <a href="/portal/audit?targetId=${encodeURIComponent(e.target.id)}"><code>${e.target.id}</code></a></td>
<td data-label="Details">${Object.keys(e.metadata).length ? html`<code>${JSON.stringify(e.metadata)}</code>` : none}</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No entries match.</p>`}
${pager(r.url, pagination.nextCursor, pagination.total)}`;
  return r.page({ title: "Audit", nav: "audit" }, body, errors ? 400 : 200);
}

const TASK_TONE: Record<string, "" | "good" | "bad"> = { completed: "good", failed: "bad", timeout: "bad", cancelled: "" };

function duration(from: string | null, to: string | null): string {
  if (!from || !to) return "—";
  const ms = Date.parse(to) - Date.parse(from);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

async function tasksPage(r: SignedInRequest): Promise<Response> {
  await requireRole(r.ctx, r.ctx.team.id, "member");
  const parsed = TaskListQuery.safeParse({ ...queryOf(r.url), limit: PAGE_SIZE });
  const errors = parsed.success ? undefined : zodFieldErrors(parsed.error);
  const { tasks, pagination } = parsed.success ? await listTasks(r.ctx, parsed.data) : { tasks: [], pagination: { total: 0, nextCursor: null } };
  const body = html`<h1>Tasks</h1>
<form method="get" action="/portal/tasks" class="filters card">
  ${select("status", "Status", TASK_STATUSES, r.url.searchParams.get("status") ?? undefined, errors)}
  <button type="submit">Filter</button>
</form>
${tasks.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Task</th><th scope="col">Status</th><th scope="col">Request</th><th scope="col">Attempts</th><th scope="col">Created</th><th scope="col">Started</th><th scope="col">Completed</th><th scope="col">Took</th></tr></thead>
<tbody>${tasks.map(
        (t) => html`<tr>
<td data-label="Task"><code>${t.id}</code>${t.provider ? html` <span class="muted">(${t.provider})</span>` : ""}</td>
<td data-label="Status">${badge(t.status, TASK_TONE[t.status] ?? "")}${t.error ? html`<br><span class="muted">${t.error}</span>` : ""}</td>
<td data-label="Request"><code>${t.method} ${t.targetUrl}</code></td>
<td data-label="Attempts">${t.attempts} of ${t.maxRetries + 1}</td>
<td data-label="Created">${date(t.createdAt)}</td>
<td data-label="Started">${date(t.startedAt)}</td>
<td data-label="Completed">${date(t.completedAt)}</td>
<td data-label="Took">${duration(t.startedAt, t.completedAt)}</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No tasks match.</p>`}
${pager(r.url, pagination.nextCursor, pagination.total)}`;
  return r.page({ title: "Tasks", nav: "tasks" }, body, errors ? 400 : 200);
}

async function leasesPage(r: SignedInRequest): Promise<Response> {
  await requireRole(r.ctx, r.ctx.team.id, "member");
  const { leases } = await listLeases(r.ctx, { active: true });
  const byCredential = new Map<string, typeof leases>();
  for (const lease of leases) byCredential.set(lease.credentialName, [...(byCredential.get(lease.credentialName) ?? []), lease]);
  const body = html`<h1>Active leases</h1>
${byCredential.size
    ? [...byCredential].map(
        ([name, group]) => html`<h2>${name}</h2><div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">Lease</th><th scope="col">Identity</th><th scope="col">Version</th><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">Caller</th><th scope="col"><span class="muted">Actions</span></th></tr></thead>
<tbody>${group.map(
          (l) => html`<tr>
<td data-label="Lease"><code>${l.id}</code></td>
<td data-label="Identity">${l.identity.type}: ${l.identity.name}</td>
<td data-label="Version">v${l.version}</td>
<td data-label="Issued">${date(l.createdAt)}</td>
<td data-label="Expires">${date(l.expiresAt)} <span class="muted">(at most ${date(l.maxExpiresAt)})</span></td>
<td data-label="Caller">${l.caller.type} <code>${l.caller.id}</code></td>
<td data-label="Actions"><a href="/portal/leases/${l.id}/revoke" aria-label="Revoke lease ${l.id}">Revoke…</a></td>
</tr>`,
        )}</tbody></table></div>`,
      )
    : html`<p>No active leases.</p>`}`;
  return r.page({ title: "Leases", nav: "leases", notice: noticeFor(r.url) }, body);
}

async function activeLease(r: SignedInRequest) {
  const { leases } = await listLeases(r.ctx, { active: true });
  const lease = leases.find((l) => l.id === r.params.leaseId);
  if (!lease) throw new AppError("not_found", "No such active lease");
  return lease;
}

async function revokeLeasePage(r: SignedInRequest): Promise<Response> {
  const lease = await activeLease(r);
  const body = html`<p><a href="/portal/leases">← Leases</a></p>
<h1>Revoke this lease?</h1>
<div class="card">
<p class="warning" role="alert">The lease of <strong>${lease.credentialName}</strong> (v${lease.version}) held by ${lease.identity.type}: ${lease.identity.name} ends now. Its holder keeps whatever copy it made of the value: rotate the credential if it must stop working.</p>
<form method="post" action="/portal/leases/${lease.id}/revoke">
  ${csrfField(r.csrf)}
  <input type="hidden" name="confirm" value="${lease.id}">
  <div class="actions"><button type="submit" class="danger">Revoke lease</button><a href="/portal/leases">Cancel</a></div>
</form></div>`;
  return r.page({ title: "Revoke lease", nav: "leases" }, body);
}

async function revokeLeaseAction(r: SignedInRequest): Promise<Response> {
  const lease = await activeLease(r);
  if (text(r.form, "confirm") !== lease.id) return redirect(`/portal/leases/${lease.id}/revoke`);
  await requireRole(r.ctx, r.ctx.team.id, "admin");
  await revokeLease(r.ctx, lease.id);
  return redirect("/portal/leases?done=lease-revoked");
}

export const activityRoutes: Route[] = [
  { method: "GET", path: "/portal/audit", auth: "user", handler: auditPage },
  { method: "GET", path: "/portal/tasks", auth: "user", handler: tasksPage },
  { method: "GET", path: "/portal/leases", auth: "user", handler: leasesPage },
  { method: "GET", path: "/portal/leases/:leaseId/revoke", auth: "user", handler: revokeLeasePage },
  { method: "POST", path: "/portal/leases/:leaseId/revoke", auth: "user", handler: revokeLeaseAction },
];
