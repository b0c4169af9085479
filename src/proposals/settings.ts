import type { VaultContext } from "../context";
import { AppError } from "../errors";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import { proposalWebhookUrl } from "./notify";

/** The team's proposal webhook URL: checked by the outbound URL policy when set (and again at each delivery). */
export async function getProposalWebhook(ctx: VaultContext) {
  return { url: await proposalWebhookUrl(ctx.env, ctx.team.id) };
}

export async function setProposalWebhook(ctx: VaultContext, url: string | null) {
  if (url !== null) {
    const verdict = checkOutboundUrl(url, allowLoopbackTargets(ctx.env));
    if (!verdict.ok) throw new AppError("url_not_allowed", `url ${verdict.reason}`, { field: "url" });
  }
  await ctx.env.DB.prepare("UPDATE teams SET proposal_webhook_url = ? WHERE id = ?").bind(url, ctx.team.id).run();
  return { url };
}
