import type { Command } from "commander";
import type { Proposal, ProposalReview } from "../../client/index";
import { UsageError } from "../errors";
import { parseAssignments } from "../input";
import type { Io } from "../io";
import type { Output } from "../output";
import { action, example } from "../program";

const STATUSES = ["pending", "approved", "rejected", "expired"] as const;
const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;

type Slot = Proposal["credentials"][number];

/** A slot the reviewer must give a value for: a set without the agent's value, not OAuth (connected in the portal). */
const needsValue = (slot: Slot) => slot.action === "set" && !slot.valueProvided && slot.type !== "oauth";

/** `vault proposal ...` (seed 003): what agents asked for; a signed-in member approves or rejects. */
export function registerVaultProposals(vault: Command, io: Io): void {
  const proposal = vault.command("proposal").alias("proposals").description("proposals: an agent asks for services and credentials, a signed-in member approves or rejects");
  example(proposal, "token-vault vault proposal list --status pending", "token-vault vault proposal approve prop_01... STRIPE_KEY=-");

  example(
    proposal
      .command("list")
      .description("the vault's proposals, newest first")
      .option("--status <status>", `only ${STATUSES.join("|")}`)
      .action(
        action(io, async (ctx, opts: { status?: string }) => {
          if (opts.status !== undefined && !(STATUSES as readonly string[]).includes(opts.status)) throw new UsageError(`--status must be one of ${STATUSES.join(", ")}`);
          const proposals = await ctx.vaultClient().proposals.list(await ctx.vaultName(), opts.status ? { status: opts.status as (typeof STATUSES)[number] } : {});
          ctx.out.result({ proposals }, () =>
            ctx.out.table<Proposal>(proposals, [
              { header: "ID", value: (p) => p.id },
              { header: "STATUS", value: (p) => p.status },
              { header: "CREATED", value: (p) => p.createdAt },
              { header: "CREDENTIALS", value: (p) => p.credentials.map((s) => (s.action === "delete" ? `-${s.key}` : s.key)) },
              { header: "SERVICES", value: (p) => p.services.map((s) => String(s.name)) },
              { header: "MESSAGE", value: (p) => (p.message.length > 60 ? `${p.message.slice(0, 57)}...` : p.message) },
            ]),
          );
        }),
      ),
    "token-vault vault proposal list --status pending --json",
  );

  example(
    proposal
      .command("show")
      .description("a proposal as the approval page shows it: message, services, credential slots, and warnings")
      .argument("<id>", "prop_...")
      .action(
        action(io, async (ctx, id: string) => {
          const review = await ctx.vaultClient().proposals.review(await ctx.vaultName(), id);
          ctx.out.result(review, () => showReview(ctx.out, review));
        }),
      ),
    "token-vault vault proposal show prop_01...",
  );

  example(
    proposal
      .command("approve")
      .description("approve and apply it (a signed-in member only): asks, hidden, for each slot's value, or takes KEY=VALUE (KEY=- reads stdin)")
      .argument("<id>", "prop_...")
      .argument("[values...]", "KEY=VALUE for the slots without a value")
      .option("--yes", "approve even though the proposal sends an existing credential to a new host")
      .action(
        action(io, async (ctx, id: string, values: string[], opts: { yes?: boolean }) => {
          const client = ctx.sessionClient("vault proposal approve");
          const name = await ctx.vaultName();
          const given = await parseAssignments(values, ctx.input, KEY_PATTERN);
          const review = await client.proposals.review(name, id);
          // Not pending: nothing to ask for; the server answers 409 proposal_not_pending.
          const slots = review.proposal.status === "pending" ? review.proposal.credentials.filter(needsValue) : [];
          const unknown = [...given.keys()].filter((k) => !slots.some((s) => s.key === k));
          if (unknown.length && review.proposal.status === "pending") throw new UsageError(`not a slot of ${id} that takes a value: ${unknown.join(", ")}`);
          for (const warning of review.warnings) ctx.out.warn(warning.message);
          if (review.warnings.length && !opts.yes) throw new UsageError(`${id} would send an existing credential to a new host (above): read it with \`vault proposal show ${id}\`, then approve with --yes if you mean it`);
          const credentials: Record<string, string> = Object.fromEntries(given);
          for (const slot of slots) {
            if (slot.key in credentials) continue;
            const hint = [slot.description, slot.obtain ? `get it at ${slot.obtain}` : undefined].filter(Boolean).join("; ");
            credentials[slot.key] = await ctx.input.askHidden(`Value for ${slot.key}${hint ? ` (${hint})` : ""}: `);
            if (credentials[slot.key] === "") throw new UsageError(`no value for ${slot.key}`);
          }
          const approved = await client.proposals.approve(name, id, credentials);
          ctx.out.result({ proposal: approved }, () => {
            const set = approved.credentials.filter((s) => s.action === "set").map((s) => s.key);
            const deleted = approved.credentials.filter((s) => s.action === "delete").map((s) => s.key);
            const services = approved.services.map((s) => String(s.name));
            const parts = [set.length ? `set ${set.join(", ")}` : "", deleted.length ? `deleted ${deleted.join(", ")}` : "", services.length ? `services ${services.join(", ")}` : ""].filter(Boolean);
            ctx.out.line(`Approved ${approved.id}${parts.length ? `: ${parts.join("; ")}` : ""}.`);
            for (const slot of approved.credentials.filter((s) => s.type === "oauth")) ctx.out.note(`${slot.key} is an OAuth credential: connect it at ${approved.approvalUrl}`);
          });
        }),
      ),
    "token-vault vault proposal approve prop_01... STRIPE_KEY=-",
    "token-vault vault proposal approve prop_01...   # asks for each value, hidden",
  );

  example(
    proposal
      .command("reject")
      .description("reject it (a signed-in member only)")
      .argument("<id>", "prop_...")
      .option("--reason <reason>", "told to the agent", "")
      .action(
        action(io, async (ctx, id: string, opts: { reason: string }) => {
          const rejected = await ctx.sessionClient("vault proposal reject").proposals.reject(await ctx.vaultName(), id, opts.reason);
          ctx.out.result({ proposal: rejected }, () => ctx.out.line(`Rejected ${rejected.id}.`));
        }),
      ),
    'token-vault vault proposal reject prop_01... --reason "use the read-only key"',
  );
}

function showReview(out: Output, review: ProposalReview): void {
  const p = review.proposal;
  out.fields([
    ["id", p.id],
    ["status", p.status],
    ["message", p.message],
    ["created", p.createdAt],
    ["expires", p.expiresAt],
    ["approval", p.approvalUrl],
    ...(p.decidedAt ? ([["decided", `${p.decidedAt} by ${p.decidedBy ?? "-"}${p.reason ? `: ${p.reason}` : ""}`]] as [string, unknown][]) : []),
  ]);
  out.line();
  out.table<Slot>(p.credentials, [
    { header: "KEY", value: (s) => s.key },
    { header: "ACTION", value: (s) => (s.action === "set" && s.exists ? "replace" : s.action) },
    { header: "VALUE", value: (s) => (s.action === "delete" ? "" : s.type === "oauth" ? "OAuth (connect)" : s.valueProvided ? `provided (${s.valueLength ?? "?"} chars)` : "you give it") },
    { header: "DESCRIPTION", value: (s) => s.description },
    { header: "OBTAIN", value: (s) => s.obtain },
  ], "(no credentials)");
  out.line();
  out.table(p.services, [
    { header: "SERVICE", value: (s) => s.name },
    { header: "HOST", value: (s) => s.host },
    { header: "AUTH", value: (s) => s.auth },
  ], "(no services)");
  for (const w of review.warnings) out.line(`${out.out.yellow("WARNING:")} ${w.message}`);
}
