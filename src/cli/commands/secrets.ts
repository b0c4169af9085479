import type { Command } from "commander";
import type { SecretSummary } from "../../client/index";
import { UsageError } from "../errors";
import { parseAssignments } from "../input";
import type { Io } from "../io";
import { action, example } from "../program";
import { collect } from "./options";

/**
 * `secret ...`: seed 001's /vault/secrets. With an API key the secrets are the app's; signed
 * in as a person they are your own in the chosen vault.
 */
export function registerSecrets(program: Command, io: Io): void {
  const secret = program.command("secret").description("named secrets (seed 001), read back by name at runtime");
  example(secret, "token-vault secret set openai_api_key=-", "token-vault secret get openai_api_key");

  example(
    secret
      .command("set")
      .description("create or update a secret (an update is a new version); NAME=- reads the value from stdin")
      .argument("<assignment>", "NAME=VALUE")
      .option("--scope <label>", "only API keys carrying this label may read it (repeatable)", collect)
      .option("--expires-at <iso>", "unusable after this time, e.g. 2026-12-31T23:59:59Z")
      .option("--allowed-host <host>", "only send it to this host (repeatable)", collect)
      .action(
        action(io, async (ctx, assignment: string, opts: { scope?: string[]; expiresAt?: string; allowedHost?: string[] }) => {
          const client = await ctx.eitherClient();
          const [[name, value] = []] = [...(await parseAssignments([assignment], ctx.input))];
          if (name === undefined || value === undefined) throw new UsageError("expected NAME=VALUE");
          const answer = await client.secrets.set({ name, value, scope: opts.scope, expiresAt: opts.expiresAt, allowedHosts: opts.allowedHost });
          ctx.out.result(answer, () => ctx.out.line(`${answer.action === "created" ? "Created" : "Updated"} ${name} (${answer.id}).`));
        }),
      ),
    "token-vault secret set openai_api_key=- < key.txt",
    "token-vault secret set stripe_secret_key=sk_test_... --scope payments --expires-at 2026-12-31T23:59:59Z",
  );

  example(
    secret
      .command("get")
      .description("print a secret's value (and nothing else) to stdout")
      .argument("<name>")
      .action(
        action(io, async (ctx, name: string) => {
          const value = await (await ctx.eitherClient()).secrets.get(name);
          ctx.out.result(value, () => io.stdout.write(`${value.value}\n`));
        }),
      ),
    'OPENAI_API_KEY=$(token-vault secret get openai_api_key) node agent.js',
  );

  example(
    secret
      .command("list")
      .description("your secrets (never a value)")
      .action(
        action(io, async (ctx) => {
          const secrets = await (await ctx.eitherClient()).secrets.list();
          ctx.out.result({ secrets }, () =>
            ctx.out.table<SecretSummary>(secrets, [
              { header: "NAME", value: (s) => s.name },
              { header: "ID", value: (s) => (s as { id?: string }).id },
              { header: "SCOPE", value: (s) => s.scope },
              { header: "EXPIRES", value: (s) => s.expiresAt },
              { header: "CREATED", value: (s) => s.createdAt },
            ]),
          );
        }),
      ),
    "token-vault secret list",
  );

  example(
    secret
      .command("delete")
      .description("delete a secret for good (every version)")
      .argument("<name>")
      .action(
        action(io, async (ctx, name: string) => {
          const answer = await (await ctx.eitherClient()).secrets.delete(name);
          ctx.out.result(answer, () => ctx.out.line(`Deleted ${name}.`));
        }),
      ),
    "token-vault secret delete openai_api_key",
  );
}
