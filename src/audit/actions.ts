/** Every audit action. Imports nothing, so the API schemas (and the client's types) can read it. */
export const AUDIT_ACTIONS = [
  "team.created",
  "apikey.created",
  "apikey.revoked",
  "token.created",
  "token.accessed",
  "token.revoked",
  "token.reencrypted",
  "webhook_secret.rotated",
  "member.added",
  "member.removed",
  "member.role_changed",
  "invitation.created",
  "invitation.accepted",
  "invitation.revoked",
  "plan.changed",
  "login.failed",
  "task.retried",
  "tasks.purged",
  "audit.purged",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
