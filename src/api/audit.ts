import { z } from "zod";
import { AUDIT_ACTIONS } from "../audit/actions";
import { isoDate, PageQuery, Pagination } from "./common";

/** Schemas of the /v1/audit route. */

export const AuditQuery = PageQuery.extend({
  action: z.enum(AUDIT_ACTIONS).optional(),
  targetId: z.string().min(1).max(64).optional(),
});
export type AuditQuery = z.output<typeof AuditQuery>;

export const AuditEntry = z
  .object({
    id: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z.object({ type: z.enum(["api_key", "admin", "task", "user", "system"]), id: z.string(), apiKeyId: z.string().optional() }),
    target: z.object({ type: z.string(), id: z.string() }),
    requestId: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: isoDate,
  })
  .meta({ id: "AuditEntry" });
export const AuditList = z.object({ entries: z.array(AuditEntry), pagination: Pagination });
export type AuditList = z.infer<typeof AuditList>;
