import type { Command } from "commander";
import { PROJECT_FILE, writeProjectVault } from "../config";
import type { VaultRef } from "../context";
import type { Io } from "../io";
import { action, example } from "../program";
import { registerVaultAgents } from "./vault-agents";
import { registerVaultCredentials } from "./vault-credentials";
import { registerVaultProposals } from "./vault-proposals";
import { registerVaultServices } from "./vault-services";

/** `vault ...`: which vaults you have, and pinning one to a project directory. */
export function registerVault(program: Command, io: Io): Command {
  const vault = program.command("vault").description("vaults (a vault is a team, seed 003): credentials by KEY, services, agent tokens, the proxy log");
  example(vault, "token-vault vault list", "token-vault vault init my-vault");

  example(
    vault
      .command("list")
      .description("the vaults you can use")
      .action(
        action(io, async (ctx) => {
          const vaults = await ctx.listVaults();
          ctx.out.result({ vaults }, () =>
            ctx.out.table<VaultRef>(vaults, [
              { header: "ID", value: (v) => v.id },
              { header: "SLUG", value: (v) => v.slug },
              { header: "NAME", value: (v) => v.name },
              { header: "ROLE", value: (v) => v.role },
            ]),
          );
        }),
      ),
    "token-vault vault list",
  );

  example(
    vault
      .command("init")
      .description(`use a vault for every command run in this directory (writes ./${PROJECT_FILE}; no secret in it)`)
      .argument("[vault]", "slug or id (default: --vault, TOKEN_VAULT_VAULT, or your only vault)")
      .action(
        action(io, async (ctx, ref: string | undefined) => {
          if (ref) ctx.options.vault = ref;
          const chosen = await ctx.resolveVault();
          const name = chosen.slug ?? chosen.id;
          const file = writeProjectVault(io, name);
          ctx.out.result({ vault: name, file }, () => ctx.out.line(`This directory now uses vault ${name} (${file}).`));
        }),
      ),
    "token-vault vault init my-vault",
  );
  registerVaultCredentials(vault, io);
  registerVaultServices(vault, io);
  registerVaultAgents(vault, io);
  registerVaultProposals(vault, io);
  return vault;
}
