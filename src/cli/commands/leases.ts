import type { Command } from "commander";
import type { Lease } from "../../client/index";
import { UsageError } from "../errors";
import type { Io } from "../io";
import { action, example } from "../program";

const columns = [
  { header: "ID", value: (l: Lease) => l.id },
  { header: "CREDENTIAL", value: (l: Lease) => `${l.credentialName} v${l.version}` },
  { header: "STATE", value: (l: Lease) => l.state },
  { header: "IDENTITY", value: (l: Lease) => `${l.identity.type}:${l.identity.name}` },
  { header: "EXPIRES", value: (l: Lease) => l.expiresAt },
];

function identity(raw: string): { type: string; name: string } {
  const colon = raw.indexOf(":");
  if (colon <= 0 || colon === raw.length - 1) throw new UsageError("--identity must be TYPE:NAME, e.g. agent:claude-code");
  return { type: raw.slice(0, colon), name: raw.slice(colon + 1) };
}

/** `lease ...`: seed 004's /v1/leases (API key with secrets:reveal). */
export function registerLeases(program: Command, io: Io): void {
  const lease = program.command("lease").description("leases (seed 004): time-boxed access to a credential's value");
  example(lease, "token-vault lease create openai-api-key-prod --identity agent:claude-code --ttl 30m --reveal", "token-vault lease list --active");

  example(
    lease
      .command("create")
      .description("lease a credential; its value is printed only with --reveal")
      .argument("<credential>", "the credential's name")
      .requiredOption("--identity <type:name>", "who the lease is for, e.g. agent:claude-code")
      .option("--ttl <ttl>", 'how long ("30m"); default: the credential\'s policy')
      .option("--reveal", "print the value: alone on stdout, or as `value` with --json")
      .action(
        action(io, async (ctx, credentialName: string, opts: { identity: string; ttl?: string; reveal?: boolean }) => {
          const issued = await ctx.keyClient("lease create").leases.create({ credentialName, ttl: opts.ttl, identity: identity(opts.identity) });
          if (opts.reveal) {
            ctx.out.result({ lease: issued }, () => io.stdout.write(`${issued.value}\n`));
            ctx.out.note(`Lease ${issued.id} expires ${issued.expiresAt}${issued.ttlCapped ? " (ttl capped by the policy)" : ""}.`);
            return;
          }
          const { value: _hidden, ...lease } = issued;
          ctx.out.result({ lease }, () =>
            ctx.out.fields([
              ["id", lease.id],
              ["credential", `${lease.credentialName} v${lease.version}`],
              ["expires", lease.expiresAt + (lease.ttlCapped ? " (ttl capped by the policy)" : "")],
              ["value", "(hidden: --reveal prints it)"],
            ]),
          );
        }),
      ),
    "OPENAI_API_KEY=$(token-vault lease create openai-api-key-prod --identity agent:claude-code --ttl 30m --reveal) node agent.js",
  );

  example(
    lease
      .command("renew")
      .description("extend an active lease (never past its maxExpiresAt)")
      .argument("<id>", "lease_...")
      .option("--ttl <ttl>", 'from now ("30m")')
      .action(
        action(io, async (ctx, id: string, opts: { ttl?: string }) => {
          const renewed = await ctx.keyClient("lease renew").leases.renew(id, { ttl: opts.ttl });
          ctx.out.result({ lease: renewed }, () => ctx.out.line(`Lease ${renewed.id} now expires ${renewed.expiresAt}.`));
        }),
      ),
    "token-vault lease renew lease_01... --ttl 15m",
  );

  example(
    lease
      .command("revoke")
      .description("end a lease now")
      .argument("<id>", "lease_...")
      .action(
        action(io, async (ctx, id: string) => {
          const revoked = await ctx.keyClient("lease revoke").leases.revoke(id);
          ctx.out.result({ lease: revoked }, () => ctx.out.line(`Revoked lease ${revoked.id}.`));
        }),
      ),
    "token-vault lease revoke lease_01...",
  );

  example(
    lease
      .command("list")
      .description("leases (never a value)")
      .option("--credential <name>")
      .option("--identity <name>", "NAME or TYPE:NAME")
      .option("--active", "only active leases")
      .action(
        action(io, async (ctx, opts: { credential?: string; identity?: string; active?: boolean }) => {
          const leases = await ctx.keyClient("lease list").leases.list({ credentialName: opts.credential, identity: opts.identity, active: opts.active });
          ctx.out.result({ leases }, () => ctx.out.table(leases, columns));
        }),
      ),
    "token-vault lease list --credential openai-api-key-prod --active",
  );
}
