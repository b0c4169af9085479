import type { Command } from "commander";
import type { Token } from "../../client/index";
import { valueOption } from "../input";
import type { Io } from "../io";
import { action, example } from "../program";
import { intOption } from "./options";

const columns = [
  { header: "ID", value: (t: Token) => t.id },
  { header: "NAME", value: (t: Token) => t.name },
  { header: "CREATED", value: (t: Token) => t.createdAt },
];

/** `token ...`: seed 000's /v1/tokens (API key). */
export function registerTokens(program: Command, io: Io): void {
  const token = program.command("token").description("tokens (seed 000): store a value once, use it as tok_... in tasks");
  example(token, 'token-vault token create --name "fal.ai Production Key" --value -', "token-vault token list");

  example(
    token
      .command("create")
      .description("store a value; prints its tok_ id (the value is never shown again)")
      .requiredOption("--name <name>", "a label, e.g. \"fal.ai Production Key\"")
      .option("--value <value>", "the value; - reads it from stdin; omitted on a terminal: asked for, hidden")
      .action(
        action(io, async (ctx, opts: { name: string; value?: string }) => {
          const client = ctx.keyClient("token create");
          const value = await valueOption(opts.value, ctx.input, io, "the token's value");
          const created = await client.tokens.create({ name: opts.name, value });
          ctx.out.result({ token: created }, () => ctx.out.line(created.id));
        }),
      ),
    'printf %s "$FAL_KEY" | token-vault token create --name "fal.ai Production Key" --value -',
  );

  example(
    token
      .command("list")
      .description("active tokens, newest first (never a value)")
      .option("--limit <n>", "at most this many (1-100)", intOption, 50)
      .action(
        action(io, async (ctx, opts: { limit: number }) => {
          const page = await ctx.keyClient("token list").tokens.list({ limit: opts.limit });
          ctx.out.result(page, () => ctx.out.table(page.tokens, columns));
        }),
      ),
    "token-vault token list --json",
  );

  example(
    token
      .command("revoke")
      .description("revoke a token for good; tasks referencing it are refused from now on")
      .argument("<id>", "tok_...")
      .action(
        action(io, async (ctx, id: string) => {
          const revoked = await ctx.keyClient("token revoke").tokens.revoke(id);
          ctx.out.result({ token: revoked }, () => ctx.out.line(`Revoked ${revoked.id} (${revoked.name}).`));
        }),
      ),
    "token-vault token revoke tok_01jrx7m2k...",
  );
}
