import type { Command } from "commander";
import type { ApiKey, CreateKeyInput } from "../../client/index";
import type { Io } from "../io";
import { action, example } from "../program";
import { collectList } from "./options";

const columns = [
  { header: "ID", value: (k: ApiKey) => k.id },
  { header: "NAME", value: (k: ApiKey) => k.name },
  { header: "PREFIX", value: (k: ApiKey) => k.prefix },
  { header: "SCOPES", value: (k: ApiKey) => k.scopes },
  { header: "LAST USED", value: (k: ApiKey) => k.lastUsedAt },
  { header: "REVOKED", value: (k: ApiKey) => k.revokedAt },
];

/** `key ...`: the chosen vault's API keys (a person's session; owners and admins create and revoke). */
export function registerKeys(program: Command, io: Io): void {
  const key = program.command("key").description("API keys of a vault (signed in as a person)");
  example(key, "token-vault key create --name CI", "token-vault key list");

  example(
    key
      .command("create")
      .description("create an API key; the full key is printed once, here")
      .requiredOption("--name <name>")
      .option("--scope <scopes>", "scopes, comma-separated or repeated; default: every scope but secrets:reveal", collectList)
      .option("--label <labels>", "scope labels for named secrets, comma-separated or repeated", collectList)
      .action(
        action(io, async (ctx, opts: { name: string; scope?: string[]; label?: string[] }) => {
          const client = ctx.sessionClient("key create");
          const vault = await ctx.resolveVault();
          const created = await client.keys.create(vault.id, { name: opts.name, scopes: opts.scope, labels: opts.label } as CreateKeyInput);
          ctx.out.result(created, () => {
            ctx.out.line(created.key);
            ctx.out.note(`API key ${created.apiKey.id} (${created.apiKey.name}) for ${vault.slug ?? vault.id}: store it now, it is not shown again.`);
          });
        }),
      ),
    'export TOKEN_VAULT_TOKEN=$(token-vault key create --name "CI" --vault my-vault)',
  );

  example(
    key
      .command("list")
      .description("the vault's API keys (prefixes only)")
      .action(
        action(io, async (ctx) => {
          const client = ctx.sessionClient("key list");
          const vault = await ctx.resolveVault();
          const apiKeys = await client.keys.list(vault.id);
          ctx.out.result({ apiKeys }, () => ctx.out.table(apiKeys, columns));
        }),
      ),
    "token-vault key list --vault my-vault",
  );

  example(
    key
      .command("revoke")
      .description("revoke an API key; it is refused at once")
      .argument("<id>", "key_...")
      .action(
        action(io, async (ctx, id: string) => {
          const revoked = await ctx.sessionClient("key revoke").keys.revoke(id);
          ctx.out.result({ apiKey: revoked }, () => ctx.out.line(`Revoked ${revoked.id} (${revoked.name}).`));
        }),
      ),
    "token-vault key revoke key_01...",
  );
}
