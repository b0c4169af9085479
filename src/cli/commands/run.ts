import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Command } from "commander";
import { ChildExit, EXIT_NOT_RUN, UsageError } from "../errors";
import type { Io } from "../io";
import { action, example } from "../program";
import { KNOWN_PROVIDERS, runEnvironment } from "../providers";

/**
 * `token-vault run --vault V -- <command>`: the command runs with a fresh short-lived agent
 * token and the base URLs of the vault's services, so an agent reaches its APIs through the
 * vault without ever holding a credential (nor the user's session or API key).
 */
export function registerRun(program: Command, io: Io): void {
  const known = KNOWN_PROVIDERS.map((p) => `${p.host}: ${p.baseUrlVar}, ${p.apiKeyVar}`).join("\n  ");
  example(
    program
      .command("run")
      .description("run a command with a fresh agent token and the vault's service base URLs in its environment; exits with its exit code")
      .argument("<command...>", "the command and its arguments, after --")
      .option("--ttl <ttl>", 'the agent token\'s lifetime, 5m to 7d', "1h")
      .option("--name <name>", "the agent token's label", "token-vault run")
      .addHelpText(
        "after",
        `
The command gets:
  TOKEN_VAULT_URL, TOKEN_VAULT_VAULT, TOKEN_VAULT_TOKEN (the agent token: proxy only, never a value)
  TOKEN_VAULT_PROXY_URL   <url>/proxy  (then /{host}/{path})
  TOKEN_VAULT_SERVICE_<NAME>_URL   <url>/s/<name>, for each enabled service
and, for a service whose host is a known provider, its SDK's base URL and API key (the agent token):
  ${known}
The agent token expires by itself (--ttl); the command's exit code is token-vault's (127: not started).`,
      )
      .action(
        action(io, async (ctx, command: string[], opts: { ttl: string; name: string }) => {
          const [file, ...args] = command;
          if (!file) throw new UsageError("which command? token-vault run [--vault V] -- <command> [args...]");
          const vault = await ctx.vaultName();
          const client = ctx.vaultClient();
          const services = await client.vaults.services.list(vault);
          const minted = await client.vaults.mintAgentToken(vault, { name: opts.name, ttl: opts.ttl });
          const url = ctx.url;
          if (!url) throw new UsageError("no server URL: run `token-vault login --url URL` or set TOKEN_VAULT_URL");
          const { env, providers } = runEnvironment({ url, vault, agentToken: minted.key, services });
          ctx.out.note(
            `Running ${file} with an agent token for ${vault} (expires ${minted.expiresAt})` +
              (providers.length ? `; ${providers.map((p) => `${p.baseUrlVar} -> ${p.service}`).join(", ")}` : "") +
              ".",
          );
          const code = await runChild(file, args, { ...io.env, ...env }, io);
          if (code !== 0) throw new ChildExit(code);
        }),
      ),
    "token-vault run --vault my-vault -- python agent.py",
    "token-vault run -- sh -c 'curl -s \"$OPENAI_BASE_URL/models\" -H \"Authorization: Bearer $OPENAI_API_KEY\"'",
  );
}

/** Spawns the command on this terminal (its stdio is ours) and resolves with its exit code. */
function runChild(file: string, args: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env, stdio: "inherit" });
    // Ctrl-C reaches the child through the terminal's process group: the CLI waits for it to end.
    const ignore = () => undefined;
    const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
    for (const s of signals) process.on(s, ignore);
    const done = (code: number) => {
      for (const s of signals) process.off(s, ignore);
      resolve(code);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      io.stderr.write(`error: cannot run ${file}: ${error.code === "ENOENT" ? "command not found" : (error.code ?? error.message)}\n`);
      done(EXIT_NOT_RUN);
    });
    child.once("exit", (code, signal) => {
      // Killed by a signal: 128 + its number, as shells report it.
      done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
