import { AuditList, AuditQuery } from "../api/audit";
import { listAuditEntries } from "../audit/audit";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";

export const auditRoutes = [
  defineRoute({
    method: "GET",
    path: "/v1/audit",
    tag: "Audit",
    summary: "The team's audit trail, newest first; filter by action and target id",
    auth: "apiKey",
    scope: "audit:read",
    query: AuditQuery,
    responses: { 200: { description: "Audit entries", schema: AuditList } },
    handler: async ({ ctx, query }) => json(await listAuditEntries(ctx, query)),
  }),
];
