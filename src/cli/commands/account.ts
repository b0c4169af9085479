import type { Command } from "commander";
import { Vault, VaultError } from "../../client/index";
import { configDir, deleteSession, writeSession } from "../config";
import { describeVaults, keyDisplay } from "../context";
import { UsageError } from "../errors";
import type { Io } from "../io";
import { action, example } from "../program";

/** login, logout, whoami. */
export function registerAccount(program: Command, io: Io): void {
  example(
    program
      .command("login")
      .description("sign in with your email and password (the password is read hidden); the session is kept in your config dir, mode 0600")
      .option("--url <url>", "the vault server (default: TOKEN_VAULT_URL, or the last login's)")
      .option("--email <email>", "your email (asked for otherwise)")
      .action(
        action(io, async (ctx, opts: { url?: string; email?: string }) => {
          const url = opts.url ?? io.env.TOKEN_VAULT_URL ?? ctx.session?.url;
          if (!url) throw new UsageError("which server? give --url URL (e.g. http://127.0.0.1:8787) or set TOKEN_VAULT_URL");
          if (!/^https?:\/\/[^\s/]+/i.test(url)) throw new UsageError("--url must be an http(s) address, e.g. https://vault.example.com");
          const email = opts.email ?? (await ctx.input.ask("Email: "));
          const password = await ctx.input.askHidden("Password: ");
          const { token } = await new Vault({ baseUrl: url }).auth.login({ email, password });
          const file = writeSession(io, { url: url.replace(/\/+$/, ""), email, token, savedAt: new Date().toISOString() });
          ctx.out.result({ loggedIn: true, url, email, sessionFile: file }, () => ctx.out.line(`Logged in to ${url} as ${email} (session in ${file})`));
        }),
      ),
    "token-vault login --url http://127.0.0.1:8787",
    "printf 'ada@example.com\\nmy passphrase\\n' | token-vault login --url https://vault.example.com",
  );

  example(
    program
      .command("logout")
      .description("end your sessions on the server and forget the local one")
      .action(
        action(io, async (ctx) => {
          const session = ctx.session;
          if (!session) {
            ctx.out.result({ loggedOut: false }, () => ctx.out.line("Not logged in."));
            return;
          }
          try {
            await new Vault({ baseUrl: session.url, sessionToken: session.token }).auth.logout();
          } finally {
            // Forgotten locally even when the server cannot be told (down, session already expired).
            deleteSession(io);
          }
          ctx.out.result({ loggedOut: true }, () => ctx.out.line(`Logged out of ${session.url}.`));
        }),
      ),
    "token-vault logout",
  );

  example(
    program
      .command("whoami")
      .description("who this CLI acts as, on which server, and which vault it uses")
      .action(
        action(io, async (ctx) => {
          if (ctx.agentMode) {
            const key = io.env.TOKEN_VAULT_TOKEN ?? "";
            let vault: string;
            try {
              const chosen = await ctx.resolveVault(); // also proves the key is valid
              vault = `${chosen.slug ?? chosen.id} (${chosen.source})`;
            } catch (error) {
              // A key without vault:read cannot list its vault: say so rather than fail.
              if (!(error instanceof VaultError && error.code === "insufficient_scope")) throw error;
              vault = "(unknown: the key lacks vault:read)";
            }
            const info = { mode: "api-key", url: ctx.url ?? null, apiKey: keyDisplay(key), vault };
            ctx.out.result(info, () =>
              ctx.out.fields([
                ["mode", "API key (TOKEN_VAULT_TOKEN)"],
                ["url", info.url],
                ["key", info.apiKey],
                ["vault", info.vault],
              ]),
            );
            return;
          }
          const session = ctx.session;
          if (!session) throw new UsageError("not signed in: run `token-vault login --url URL`, or set TOKEN_VAULT_URL and TOKEN_VAULT_TOKEN");
          const vaults = await ctx.listVaults(); // also proves the session is still valid
          let vault: string | null = null;
          try {
            const chosen = await ctx.resolveVault();
            vault = `${chosen.slug ?? chosen.id} (${chosen.source})`;
          } catch (error) {
            if (!(error instanceof UsageError)) throw error;
          }
          const info = { mode: "session", url: session.url, email: session.email, vaults, vault, configDir: configDir(io) };
          ctx.out.result(info, () =>
            ctx.out.fields([
              ["mode", "session (token-vault login)"],
              ["url", session.url],
              ["email", session.email],
              ["vaults", describeVaults(vaults)],
              ["vault", vault ?? "(none chosen)"],
            ]),
          );
        }),
      ),
    "token-vault whoami --json",
  );
}
