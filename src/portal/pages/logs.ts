import { LogQuery } from "../../api/vaults";
import { listProxyLog } from "../../gateway/logs";
import type { Route, SignedInRequest } from "../app";
import { field, zodFieldErrors } from "../forms";
import { html } from "../html";
import { badge, date, none } from "./common";
import { pager, queryOf } from "./activity";
import { vaultContext } from "./vault-context";

/** The proxy's request log (/portal/logs): metadata only, newest first, as /v1/vaults/:vault/logs lists it. */
const PAGE_SIZE = 50;

async function logsPage(r: SignedInRequest): Promise<Response> {
  const parsed = LogQuery.safeParse({ ...queryOf(r.url), limit: PAGE_SIZE });
  const errors = parsed.success ? undefined : zodFieldErrors(parsed.error);
  const { entries, pagination } = parsed.success ? await listProxyLog(await vaultContext(r), parsed.data) : { entries: [], pagination: { total: 0, nextCursor: null } };
  const body = html`<h1>Request log</h1>
<p class="muted">Requests the proxy handled for this vault: what went where, never a header or a body.</p>
<form method="get" action="/portal/logs" class="filters card">
  ${field({ name: "service", label: "Service", type: "search", value: r.url.searchParams.get("service") ?? "", errors })}
  ${field({ name: "status", label: "Status", type: "search", value: r.url.searchParams.get("status") ?? "", errors })}
  <button type="submit">Filter</button>
</form>
${entries.length
    ? html`<div class="table-wrap"><table class="stack">
<thead><tr><th scope="col">When</th><th scope="col">Method</th><th scope="col">Host</th><th scope="col">Path</th><th scope="col">Service</th><th scope="col">KEYs</th><th scope="col">Status</th><th scope="col">Duration</th></tr></thead>
<tbody>${entries.map(
        (e) => html`<tr data-log-id="${e.id}">
<td data-label="When">${date(e.createdAt)}</td>
<td data-label="Method"><code>${e.method}</code></td>
<td data-label="Host"><code>${e.host}</code></td>
<td data-label="Path"><code>${e.path}</code></td>
<td data-label="Service">${e.service ?? none}</td>
<td data-label="KEYs">${e.credentialKeys.length ? html`${e.credentialKeys.map((k, i) => html`${i ? ", " : ""}<code>${k}</code>`)}` : none}</td>
<td data-label="Status">${badge(String(e.status), e.status < 400 ? "good" : "bad")}${e.errorCode ? html` <code>${e.errorCode}</code>` : ""}</td>
<td data-label="Duration">${e.durationMs} ms</td>
</tr>`,
      )}</tbody></table></div>`
    : html`<p>No requests logged${parsed.success && (parsed.data.service || parsed.data.status) ? " for this filter" : " yet"}.</p>`}
${pager(r.url, pagination.nextCursor, pagination.total)}`;
  return r.page({ title: "Request log", nav: "logs" }, body);
}

export const logRoutes: Route[] = [{ method: "GET", path: "/portal/logs", auth: "user", handler: logsPage }];
