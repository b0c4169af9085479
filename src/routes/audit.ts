import { z } from "zod";
import { AUDIT_ACTIONS, listAuditEntries } from "../audit/audit";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate, PageQuery, Pagination } from "../http/schemas";

export const AuditQuery = PageQuery.extend({
  action: z.enum(AUDIT_ACTIONS).optional(),
  targetId: z.string().min(1).max(64).optional(),
});
export type AuditQuery = z.output<typeof AuditQuery>;

export const AuditEntry = z
  .object({
    id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z.object({ type: z.enum(["api_key", "admin", "task", "user"]), id: z.string(), apiKeyId: z.string().optional() }),
    target: z.object({ type: z.string(), id: z.string() }),
    requestId: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: isoDate,
  })
  .meta({ id: "AuditEntry" });
export const AuditList = z.object({ entries: z.array(AuditEntry), pagination: Pagination });
export type AuditList = z.infer<typeof AuditList>;

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
