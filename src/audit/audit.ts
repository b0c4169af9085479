import type { KnownActor, TeamContext } from "../context";
import { listPage, type PageQuery } from "../http/schemas";
import { newId } from "../ids";
import type { AuditAction } from "./actions";

export { AUDIT_ACTIONS, type AuditAction } from "./actions";

/**
 * The audit trail. Entries are written with prepared statements that callers put in the same
 * D1 batch as the change they record, so no change lands without its entry. Entries hold ids,
 * names and counts, never a secret value.
 */
/** Who did it: any identified actor of a request context (context.ts). */
export type Actor = KnownActor;

export interface AuditEntry {
  teamId: string;
  actor: Actor;
  action: AuditAction;
  targetType: "team" | "api_key" | "token" | "user" | "invitation" | "task" | "secret" | "credential" | "lease" | "service" | "proposal";
  targetId: string;
  requestId: string;
  metadata?: Record<string, string | number | boolean | null>;
}

/**
 * `onlyIfChanged` makes the insert conditional on the previous statement of the same batch
 * having changed a row (SQLite's `changes()`), so a no-op update leaves no audit entry;
 * `onlyIf` on any SQL condition (with its own parameters).
 */
export function auditStatement(
  db: D1Database,
  entry: AuditEntry,
  at: string = new Date().toISOString(),
  options: {
    onlyIfChanged?: boolean;
    onlyIf?: { sql: string; args: (string | number | null)[] };
    /** The target id read by a scalar subquery in the same statement (instead of entry.targetId). */
    targetFrom?: { sql: string; args: (string | number | null)[] };
    /** The metadata (JSON text or NULL) computed by an expression in the same statement (instead of entry.metadata). */
    metadataFrom?: { sql: string; args: (string | number | null)[] };
  } = {},
): D1PreparedStatement {
  const columns = "id, team_id, actor_type, actor_id, actor_api_key_id, action, target_type, target_id, request_id, metadata, created_at";
  const target = options.targetFrom ? `(${options.targetFrom.sql})` : "?";
  const metadata = options.metadataFrom ? `(${options.metadataFrom.sql})` : "?";
  const values = `?, ?, ?, ?, ?, ?, ?, ${target}, ?, ${metadata}, ?`;
  const condition = options.onlyIfChanged ? "changes() > 0" : options.onlyIf?.sql;
  const sql = condition ? `INSERT INTO audit_log (${columns}) SELECT ${values} WHERE ${condition}` : `INSERT INTO audit_log (${columns}) VALUES (${values})`;
  return db
    .prepare(sql)
    .bind(
      newId.audit(),
      entry.teamId,
      entry.actor.type,
      entry.actor.id,
      entry.actor.type === "task" ? entry.actor.apiKeyId : entry.actor.type === "api_key" ? entry.actor.id : null,
      entry.action,
      entry.targetType,
      ...(options.targetFrom ? options.targetFrom.args : [entry.targetId]),
      entry.requestId,
      ...(options.metadataFrom ? options.metadataFrom.args : [entry.metadata ? JSON.stringify(entry.metadata) : null]),
      at,
      ...(options.onlyIf?.args ?? []),
    );
}

export interface AuditRow {
  id: string;
  team_id: string;
  actor_type: string;
  actor_id: string;
  actor_api_key_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string;
  metadata: string | null;
  created_at: string;
}

/** The team's audit trail, newest first, optionally filtered by action and target. */
export async function listAuditEntries(ctx: TeamContext, query: PageQuery & { action?: AuditAction | undefined; targetId?: string | undefined }) {
  const { items, pagination } = await listPage<AuditRow>(ctx.env.DB, { table: "audit_log", filters: { team_id: ctx.team.id, action: query.action, target_id: query.targetId } }, query);
  return { entries: items.map(auditView), pagination };
}

export function auditView(row: AuditRow) {
  return {
    id: row.id,
    action: row.action,
    actor: { type: row.actor_type, id: row.actor_id, ...(row.actor_api_key_id && row.actor_type === "task" ? { apiKeyId: row.actor_api_key_id } : {}) },
    target: { type: row.target_type, id: row.target_id },
    requestId: row.request_id,
    metadata: row.metadata ? (JSON.parse(row.metadata) as Record<string, unknown>) : {},
    createdAt: row.created_at,
  };
}
