import { z } from "zod";
import { AUDIT_ACTIONS, auditView, type AuditRow } from "../audit/audit";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate, PageQuery, paginate, Pagination } from "../http/schemas";

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

async function listAudit(db: D1Database, teamId: string, q: AuditQuery) {
  const where = ["team_id = ?"];
  const args: (string | number)[] = [teamId];
  if (q.action) {
    where.push("action = ?");
    args.push(q.action);
  }
  if (q.targetId) {
    where.push("target_id = ?");
    args.push(q.targetId);
  }
  const filter = where.join(" AND ");
  const page = q.cursor
    ? db.prepare(`SELECT * FROM audit_log WHERE ${filter} AND id < ? ORDER BY id DESC LIMIT ?`).bind(...args, q.cursor, q.limit + 1)
    : db.prepare(`SELECT * FROM audit_log WHERE ${filter} ORDER BY id DESC LIMIT ? OFFSET ?`).bind(...args, q.limit + 1, q.offset);
  const count = db.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE ${filter}`).bind(...args);
  const [rows, total] = await db.batch<AuditRow | { n: number }>([page, count]);
  const { items, pagination } = paginate((rows?.results ?? []) as AuditRow[], (total?.results[0] as { n: number } | undefined)?.n ?? 0, q);
  return { entries: items.map(auditView), pagination };
}

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
    handler: async ({ env, auth, query }) => json(await listAudit(env.DB, auth.team.id, query)),
  }),
];
