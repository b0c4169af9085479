import type { Command } from "commander";
import type { VaultCredential } from "../../client/index";
import { UsageError } from "../errors";
import { parseAssignments } from "../input";
import type { Io } from "../io";
import { action, example } from "../program";

const KEY = /^[A-Z][A-Z0-9_]*$/;

/** `vault credential ...` (alias `creds`): seed 003's credentials by KEY. */
export function registerVaultCredentials(vault: Command, io: Io): void {
  const credential = vault.command("credential").alias("creds").description("credentials by KEY (seed 003), injected by the proxy");
  example(credential, "token-vault vault credential set STRIPE_KEY=sk_test_abc123 --vault my-vault", "token-vault vault creds list");

  example(
    credential
      .command("set")
      .description("set one or several KEYs at once, atomically (an existing KEY is overwritten); KEY=- reads the value from stdin")
      .argument("<assignments...>", "KEY=VALUE (UPPER_SNAKE_CASE keys)")
      .action(
        action(io, async (ctx, assignments: string[]) => {
          const client = ctx.vaultClient();
          const values = await parseAssignments(assignments, ctx.input, KEY);
          const name = await ctx.vaultName();
          const set = await client.vaults.credentials.set(name, Object.fromEntries(values));
          ctx.out.result({ credentials: set }, () => ctx.out.line(`Set ${set.map((c) => c.key).join(", ")} in ${name}.`));
        }),
      ),
    "token-vault vault credential set STRIPE_KEY=sk_test_abc123 --vault my-vault",
    "token-vault vault credential set GITHUB_TOKEN=- OPENAI_KEY=sk-... < github-token.txt",
  );

  example(
    credential
      .command("get")
      .description("print one KEY's value (and nothing else) to stdout")
      .argument("<key>")
      .action(
        action(io, async (ctx, key: string) => {
          const found = await ctx.vaultClient().vaults.credentials.get(await ctx.vaultName(), key);
          ctx.out.result({ credential: found }, () => io.stdout.write(`${found.value ?? ""}\n`));
        }),
      ),
    "STRIPE_KEY=$(token-vault vault credential get STRIPE_KEY)",
  );

  example(
    credential
      .command("list")
      .description("the vault's KEYs; values only with --reveal")
      .option("--reveal", "include the values")
      .action(
        action(io, async (ctx, opts: { reveal?: boolean }) => {
          const credentials = await ctx.vaultClient().vaults.credentials.list(await ctx.vaultName(), { reveal: opts.reveal === true });
          ctx.out.result({ credentials }, () =>
            ctx.out.table<VaultCredential>(credentials, [
              { header: "KEY", value: (c) => c.key },
              { header: "TYPE", value: (c) => c.type },
              { header: "ID", value: (c) => c.id },
              { header: "UPDATED", value: (c) => c.updatedAt + (c.expired ? " (expired)" : "") },
              ...(opts.reveal ? [{ header: "VALUE", value: (c: VaultCredential) => c.value }] : []),
            ]),
          );
        }),
      ),
    "token-vault vault credential list --reveal",
  );

  example(
    credential
      .command("delete")
      .description("remove KEYs for good (a service still naming one then fails with 502 at the proxy)")
      .argument("<keys...>")
      .action(
        action(io, async (ctx, keys: string[]) => {
          const client = ctx.vaultClient();
          const name = await ctx.vaultName();
          const bad = keys.find((key) => !KEY.test(key));
          if (bad !== undefined) throw new UsageError(`${bad}: a KEY is UPPER_SNAKE_CASE`);
          const deleted: VaultCredential[] = [];
          for (const key of keys) deleted.push(await client.vaults.credentials.delete(name, key));
          ctx.out.result({ credentials: deleted }, () => ctx.out.line(`Deleted ${deleted.map((c) => c.key).join(", ")} from ${name}.`));
        }),
      ),
    "token-vault vault credential delete STRIPE_KEY --vault my-vault",
  );
}
