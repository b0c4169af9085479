import { Command, CommanderError, Option } from "commander";
import { VaultError } from "../client/index";
import { registerAccount } from "./commands/account";
import { registerAudit } from "./commands/audit";
import { registerCredentials } from "./commands/credentials";
import { registerKeys } from "./commands/keys";
import { registerLeases } from "./commands/leases";
import { registerSecrets } from "./commands/secrets";
import { registerTasks } from "./commands/tasks";
import { registerTokens } from "./commands/tokens";
import { registerVault } from "./commands/vault";
import { Ctx, type GlobalOptions } from "./context";
import { EXIT_API, EXIT_OK, EXIT_USAGE, UsageError } from "./errors";
import { paint, useColour, type Io } from "./io";

export const VERSION = "0.1.0";

/** A command's action gets the run's context and its own arguments and options. */
export type Action<A extends unknown[]> = (ctx: Ctx, ...args: A) => Promise<void>;

/**
 * Defines a command's action: the context is built from the options every command shares
 * (`--json`, `--vault`), then the action runs; errors go to `main`.
 */
export function action<A extends unknown[]>(io: Io, fn: Action<A>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const ctx = new Ctx(io, command.optsWithGlobals<GlobalOptions>());
    // commander passes (...arguments, options, command).
    await fn(ctx, ...(args.slice(0, -1) as A));
  };
}

/** `--help` on every command ends with an example. */
export function example(command: Command, ...lines: string[]): Command {
  return command.addHelpText("after", `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

export function buildProgram(io: Io): Command {
  const program = new Command("token-vault");
  program
    .description("The command line of Token Vault: credentials, vaults, tokens, tasks and keys.")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--json", "print the API's JSON (for scripts)"))
    .addOption(new Option("--vault <vault>", "the vault (team slug or id); else TOKEN_VAULT_VAULT, ./token-vault.json, or your only vault"))
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(paint(useColour(io, "stderr")).red(text)),
    })
    .addHelpText(
      "after",
      `
Sign in as a person with \`token-vault login\`, or run as an agent or script with
TOKEN_VAULT_URL and TOKEN_VAULT_TOKEN (an API key) in the environment.

Example:
  $ token-vault login --url http://127.0.0.1:8787
  $ TOKEN_VAULT_URL=http://127.0.0.1:8787 TOKEN_VAULT_TOKEN=tvk_... token-vault token list --json
`,
    );
  registerAccount(program, io);
  registerVault(program, io);
  registerTokens(program, io);
  registerSecrets(program, io);
  registerCredentials(program, io);
  registerLeases(program, io);
  registerTasks(program, io);
  registerAudit(program, io);
  registerKeys(program, io);
  return program;
}

/** Runs one command line; the exit code: 0 success, 1 the API refused or could not be reached, 2 usage. */
export async function main(argv: string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  const red = paint(useColour(io, "stderr")).red;
  try {
    await program.parseAsync(argv, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too, with code 0; commander has printed its message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`${red("error:")} ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof VaultError) {
      io.stderr.write(`${formatVaultError(error, red, new Ctx(io, {}).url)}\n`);
      return EXIT_API;
    }
    // Anything else is a bug of ours: one line, no stack (TOKEN_VAULT_DEBUG=1 shows it).
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${red("error:")} ${message}\n`);
    if (io.env.TOKEN_VAULT_DEBUG && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return EXIT_API;
  }
}

function formatVaultError(error: VaultError, red: (s: string) => string, url: string | undefined): string {
  if (error.code === "network_error") {
    // fetch's TypeError ("fetch failed") wraps the reason: ECONNREFUSED, ENOTFOUND, "bad port"...
    const outer = error.cause instanceof Error ? error.cause : undefined;
    const inner = outer?.cause instanceof Error ? (outer.cause as Error & { code?: string }) : undefined;
    const cause = inner?.code ?? inner?.message ?? outer?.message ?? "";
    return `${red("error:")} cannot reach the vault server${url ? ` at ${url}` : ""}${cause ? ` (${cause})` : ""}: is it running, and is the URL right?`;
  }
  const lines = [`${red("error:")} ${error.message} (${error.code}, HTTP ${error.status})`];
  for (const issue of error.issues ?? []) lines.push(`  ${issue.path || "(body)"}: ${issue.message}`);
  if (error.code === "invalid_session" || error.code === "session_required" || error.code === "session_expired") lines.push("  run `token-vault login` to sign in again");
  if (error.requestId) lines.push(`  request id: ${error.requestId}`);
  return lines.join("\n");
}
