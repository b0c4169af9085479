import type { TeamContext } from "../context";
import type { Env } from "../env";
import { log } from "../log";
import { postSignedEvent } from "../webhooks/post";

/**
 * The team's proposal webhook: created, approved, rejected and expired events, signed with the
 * team's webhook secret exactly like task webhooks (Standard Webhooks headers), so a proposal
 * does not wait silently for a week. One attempt, after the response (a receiver that is down
 * misses the event; the proposal itself is unaffected). The body names the proposal, never a value.
 */
export type ProposalEvent = "proposal.created" | "proposal.approved" | "proposal.rejected" | "proposal.expired";

export interface ProposalSummary {
  id: string;
  status: string;
  approvalUrl: string;
  expiresAt: string;
}

export async function proposalWebhookUrl(env: Env, teamId: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT proposal_webhook_url FROM teams WHERE id = ?").bind(teamId).first<{ proposal_webhook_url: string | null }>())?.proposal_webhook_url ?? null;
}

export async function sendProposalEvent(ctx: TeamContext, event: ProposalEvent, proposal: ProposalSummary): Promise<void> {
  const url = await proposalWebhookUrl(ctx.env, ctx.team.id);
  if (!url) return;
  const body = JSON.stringify({ event, proposal });
  const messageId = `msg_${proposal.id.replace(/^prop_/, "")}_${event.replace("proposal.", "")}`;
  const answer = await postSignedEvent(ctx, { url, messageId, type: event, body });
  log.info("proposal_webhook", { requestId: ctx.requestId, proposalId: proposal.id, event, outcome: answer.kind, status: answer.kind === "response" ? answer.status : undefined });
}

/** Sends the event after the response (never fails the request that caused it). */
export function notifyProposal(ctx: TeamContext, event: ProposalEvent, proposal: ProposalSummary): void {
  ctx.exec.waitUntil(
    sendProposalEvent(ctx, event, proposal).catch((error: unknown) => {
      log.warn("proposal_webhook_failed", { requestId: ctx.requestId, proposalId: proposal.id, event, errorName: error instanceof Error ? error.name : typeof error });
    }),
  );
}
