import type { Command } from "commander";
import type { AuditEntry, AuditListQuery } from "../../client/index";
import type { Io } from "../io";
import { action, example } from "../program";
import { intOption } from "./options";

/** `audit`: the team's audit trail (API key with audit:read). */
export function registerAudit(program: Command, io: Io): void {
  example(
    program
      .command("audit")
      .description("the audit trail, newest first")
      .option("--action <action>", "e.g. token.created, secret.retrieved, lease.created")
      .option("--target <id>", "only entries about this id (tok_..., task_..., lease_...)")
      .option("--limit <n>", "at most this many (1-100)", intOption, 50)
      .action(
        action(io, async (ctx, opts: { action?: string; target?: string; limit: number }) => {
          const page = await ctx.keyClient("audit").audit.list({ action: opts.action, targetId: opts.target, limit: opts.limit } as AuditListQuery);
          ctx.out.result(page, () =>
            ctx.out.table<AuditEntry>(page.entries, [
              { header: "TIME", value: (e) => e.createdAt },
              { header: "ACTION", value: (e) => e.action },
              { header: "ACTOR", value: (e) => `${e.actor.type}:${e.actor.id}` },
              { header: "TARGET", value: (e) => `${e.target.type}:${e.target.id}` },
            ]),
          );
        }),
      ),
    "token-vault audit --action token.created --target tok_01...",
  );
}
