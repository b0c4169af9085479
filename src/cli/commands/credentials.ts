import type { Command } from "commander";
import type { Credential } from "../../client/index";
import { valueOption } from "../input";
import type { Io } from "../io";
import { action, example } from "../program";
import { collect, intOption, pairs } from "./options";

const columns = [
  { header: "NAME", value: (c: Credential) => c.name },
  { header: "ID", value: (c: Credential) => c.id },
  { header: "TYPE", value: (c: Credential) => c.type },
  { header: "VERSION", value: (c: Credential) => c.currentVersion },
  { header: "SERVICE", value: (c: Credential) => c.metadata.service },
  { header: "ENV", value: (c: Credential) => c.metadata.environment },
  { header: "ROTATION DUE", value: (c: Credential) => (c.rotationDue ? "yes" : "no") },
  { header: "CREATED", value: (c: Credential) => c.createdAt },
];

/** `credential ...`: seed 004's /v1/credentials (API key). Values come back only in leases. */
export function registerCredentials(program: Command, io: Io): void {
  const credential = program.command("credential").description("credentials with metadata and a lease policy (seed 004)");
  example(credential, "token-vault credential create openai-api-key-prod --value - --metadata service=openai", "token-vault credential list");

  example(
    credential
      .command("create")
      .description("store a credential (its value is only ever handed out in a lease)")
      .argument("<name>", "e.g. openai-api-key-prod")
      .option("--value <value>", "the value; - reads it from stdin; omitted on a terminal: asked for, hidden")
      .option("--type <type>", "credential type", "api-key")
      .option("--metadata <key=value>", "metadata field (repeatable): service, environment, prefix, team, rotateEvery...", collect)
      .option("--default-ttl <ttl>", 'policy: default lease TTL ("30m")')
      .option("--max-ttl <ttl>", 'policy: longest lease TTL ("4h")')
      .option("--max-leases <n>", "policy: active leases at most", intOption)
      .option("--allowed-host <host>", "only send it to this host (repeatable)", collect)
      .action(
        action(
          io,
          async (
            ctx,
            name: string,
            opts: { value?: string; type: string; metadata?: string[]; defaultTtl?: string; maxTtl?: string; maxLeases?: number; allowedHost?: string[] },
          ) => {
            const client = ctx.keyClient("credential create");
            const value = await valueOption(opts.value, ctx.input, io, "the credential's value");
            const policy = opts.defaultTtl || opts.maxTtl || opts.maxLeases ? { defaultLeaseTTL: opts.defaultTtl, maxLeaseTTL: opts.maxTtl, maxLeases: opts.maxLeases } : undefined;
            const created = await client.credentials.create({
              name,
              // The server names the types it accepts (today "api-key") in its validation error.
              type: opts.type as "api-key",
              value,
              metadata: pairs(opts.metadata, "--metadata"),
              policy,
              allowedHosts: opts.allowedHost,
            });
            ctx.out.result({ credential: created }, () => ctx.out.line(`Created ${created.name} (${created.id}, version ${created.currentVersion}).`));
          },
        ),
      ),
    "token-vault credential create openai-api-key-prod --value - --metadata service=openai --metadata environment=production --default-ttl 30m --max-ttl 4h --max-leases 5 < key.txt",
  );

  example(
    credential
      .command("rotate")
      .description("a new current version; the previous one serves its active leases until they end")
      .argument("<name>")
      .option("--value <value>", "the new value; - reads it from stdin; omitted on a terminal: asked for, hidden")
      .option("--grace-period <ttl>", 'retire the previous version at the latest this long from now ("1h")')
      .action(
        action(io, async (ctx, name: string, opts: { value?: string; gracePeriod?: string }) => {
          const client = ctx.keyClient("credential rotate");
          const newValue = await valueOption(opts.value, ctx.input, io, "the new value");
          const rotated = await client.credentials.rotate({ name, newValue, gracePeriod: opts.gracePeriod });
          ctx.out.result(rotated, () =>
            ctx.out.line(`Rotated ${name}: version ${rotated.credential.currentVersion} is current; version ${rotated.previousVersion.version} is ${rotated.previousVersion.state}.`),
          );
        }),
      ),
    "token-vault credential rotate openai-api-key-prod --value - --grace-period 1h < new-key.txt",
  );

  example(
    credential
      .command("list")
      .description("credentials (never a value)")
      .option("--service <service>", "metadata.service")
      .option("--environment <env>", "metadata.environment")
      .option("--type <type>")
      .option("--rotation-due", "only those due for rotation (metadata.rotateEvery)")
      .action(
        action(io, async (ctx, opts: { service?: string; environment?: string; type?: string; rotationDue?: boolean }) => {
          const credentials = await ctx.keyClient("credential list").credentials.list(opts);
          ctx.out.result({ credentials }, () => ctx.out.table(credentials, columns));
        }),
      ),
    "token-vault credential list --service openai",
  );
}
