import type { Command } from "commander";
import type { ProxyLogEntry } from "../../client/index";
import type { Io } from "../io";
import { action, example } from "../program";
import { intOption } from "./options";

/** `vault agent-token` and `vault logs`. */
export function registerVaultAgents(vault: Command, io: Io): void {
  example(
    vault
      .command("agent-token")
      .description("mint a short-lived agent key for the vault: it can use the proxy, never read a value")
      .requiredOption("--ttl <ttl>", 'its lifetime, 5m to 7d ("1h")')
      .option("--name <name>", "a label", "cli agent token")
      .action(
        action(io, async (ctx, opts: { ttl: string; name: string }) => {
          const name = await ctx.vaultName();
          const created = await ctx.vaultClient().vaults.mintAgentToken(name, { name: opts.name, ttl: opts.ttl });
          ctx.out.result(created, () => {
            ctx.out.line(created.key);
            ctx.out.note(`Agent token ${created.apiKey.id} for ${name}, expires ${created.expiresAt}: it is not shown again.`);
          });
        }),
      ),
    "TOKEN_VAULT_TOKEN=$(token-vault vault agent-token --ttl 1h --vault my-vault) my-agent",
  );

  example(
    vault
      .command("logs")
      .description("the proxy's request log (metadata only), newest first")
      .option("--service <name>")
      .option("--status <code>", "only this HTTP status", intOption)
      .option("--limit <n>", "at most this many (1-100)", intOption, 50)
      .action(
        action(io, async (ctx, opts: { service?: string; status?: number; limit: number }) => {
          const page = await ctx.vaultClient().vaults.logs(await ctx.vaultName(), opts);
          ctx.out.result(page, () =>
            ctx.out.table<ProxyLogEntry>(page.entries, [
              { header: "TIME", value: (e) => e.createdAt },
              { header: "METHOD", value: (e) => e.method },
              { header: "HOST", value: (e) => e.host },
              { header: "PATH", value: (e) => e.path },
              { header: "SERVICE", value: (e) => e.service },
              { header: "KEYS", value: (e) => e.credentialKeys },
              { header: "STATUS", value: (e) => (e.errorCode ? `${e.status} ${e.errorCode}` : e.status) },
              { header: "MS", value: (e) => e.durationMs },
            ]),
          );
        }),
      ),
    "token-vault vault logs --service stripe --status 502",
  );
}
