import { auditStatement } from "../audit/audit";
import { createContext, SWEEPER_ACTOR } from "../context";
import type { Env } from "../env";
import { newId } from "../ids";
import { notifyProposal } from "./notify";

/**
 * The cron sweeper's part for proposals: a pending proposal past its 7 days becomes `expired`,
 * audited once (the guarded update changes the row only the first time) and announced to the
 * team's proposal webhook. Approval checks the expiry itself, so this only records it.
 */
export async function expireProposals(env: Env, now = Date.now(), limit = 100): Promise<number> {
  const at = new Date(now).toISOString();
  const { results } = await env.DB
    .prepare("SELECT p.id, p.team_id, p.expires_at, t.key_salt FROM proposals p JOIN teams t ON t.id = p.team_id WHERE p.status = 'pending' AND p.expires_at <= ? ORDER BY p.expires_at LIMIT ?")
    .bind(at, limit)
    .all<{ id: string; team_id: string; expires_at: string; key_salt: string }>();
  let expired = 0;
  for (const row of results) {
    const ctx = createContext({ env, requestId: newId.request(), actor: SWEEPER_ACTOR, team: { id: row.team_id, keySalt: row.key_salt } });
    const [changed] = await env.DB.batch([
      env.DB.prepare("UPDATE proposals SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending' AND expires_at <= ?").bind(at, row.id, at),
      auditStatement(env.DB, { teamId: row.team_id, actor: SWEEPER_ACTOR, action: "proposal.expired", targetType: "proposal", targetId: row.id, requestId: ctx.requestId, metadata: { expiresAt: row.expires_at } }, at, { onlyIfChanged: true }),
    ]);
    if (!changed?.meta.changes) continue;
    expired++;
    // The sweeper has no request origin: the event carries the portal path.
    notifyProposal(ctx, "proposal.expired", { id: row.id, status: "expired", approvalUrl: `/portal/proposals/${row.id}`, expiresAt: row.expires_at });
  }
  return expired;
}
