import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { Service, ServiceInput } from "../../client/index";
import { UsageError } from "../errors";
import type { Io } from "../io";
import { action, example } from "../program";
import { collect } from "./options";

interface AddOptions {
  host?: string;
  bearer?: string;
  basic?: string;
  apiKey?: string;
  header?: string;
  prefix?: string;
  custom?: string[];
  passthrough?: boolean;
  disabled?: boolean;
  file?: string;
}

/** The service's `auth` from exactly one of the auth flags. */
function authFrom(opts: AddOptions): ServiceInput["auth"] {
  const chosen = [opts.bearer, opts.basic, opts.apiKey, opts.custom?.length ? opts.custom : undefined, opts.passthrough || undefined].filter((v) => v !== undefined);
  if (chosen.length !== 1) throw new UsageError("give exactly one of --bearer KEY, --basic USER_KEY:PASS_KEY, --api-key KEY, --custom 'Header: {{ KEY }}', --passthrough (or -f service.json)");
  if (opts.bearer) return { type: "bearer", token: opts.bearer };
  if (opts.basic) {
    const [username, password, ...rest] = opts.basic.split(":");
    if (!username || !password || rest.length) throw new UsageError("--basic takes USERNAME_KEY:PASSWORD_KEY");
    return { type: "basic", username, password };
  }
  if (opts.apiKey) return { type: "api-key", key: opts.apiKey, ...(opts.header ? { header: opts.header } : {}), ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}) };
  if (opts.custom?.length) {
    const headers: Record<string, string> = {};
    for (const [i, item] of opts.custom.entries()) {
      const colon = item.indexOf(":");
      if (colon <= 0) throw new UsageError(`--custom ${i + 1}: expected "Header: template with {{ KEY }}"`);
      headers[item.slice(0, colon).trim()] = item.slice(colon + 1).trim();
    }
    return { type: "custom", headers };
  }
  return { type: "passthrough" };
}

/** `-f`: one service object, an array of them, or `{"services": [...]}`. */
function servicesFromFile(file: string): ServiceInput[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`-f ${file}: ${error instanceof SyntaxError ? "not valid JSON" : "cannot be read"}`);
  }
  const list = Array.isArray(parsed) ? parsed : typeof parsed === "object" && parsed !== null && Array.isArray((parsed as { services?: unknown }).services) ? (parsed as { services: unknown[] }).services : [parsed];
  return list as ServiceInput[]; // the server validates each and names the fields it refuses
}

const columns = [
  { header: "NAME", value: (s: Service) => s.name },
  { header: "HOST", value: (s: Service) => s.host },
  { header: "ENABLED", value: (s: Service) => (s.enabled ? "yes" : "no") },
  { header: "AUTH", value: (s: Service) => describeAuth(s.auth) },
];

function describeAuth(auth: Record<string, unknown>): string {
  switch (auth.type) {
    case "bearer":
      return `bearer ${String(auth.token)}`;
    case "basic":
      return `basic ${String(auth.username)}:${String(auth.password)}`;
    case "api-key":
      return `api-key ${String(auth.key)} in ${String(auth.header ?? "Authorization")}`;
    case "custom":
      return `custom ${Object.keys((auth.headers as Record<string, string> | undefined) ?? {}).join(",")}`;
    default:
      return String(auth.type);
  }
}

/** `vault service ...`: which credential goes to which host. */
export function registerVaultServices(vault: Command, io: Io): void {
  const service = vault.command("service").description("services: which credential KEY the proxy attaches for which host");
  example(service, "token-vault vault service add stripe --host api.stripe.com --bearer STRIPE_KEY", "token-vault vault service list");

  example(
    service
      .command("list")
      .description("the vault's services, in matching order")
      .action(
        action(io, async (ctx) => {
          const services = await ctx.vaultClient().vaults.services.list(await ctx.vaultName());
          ctx.out.result({ services }, () => ctx.out.table(services, columns));
        }),
      ),
    "token-vault vault service list --vault my-vault",
  );

  example(
    service
      .command("add")
      .description("add or replace a service by name (every KEY it names must exist)")
      .argument("[name]", "the service's name (not with -f)")
      .option("--host <host>", "api.stripe.com, *.github.com, slack.com/api/*, api.example.com:8443")
      .option("--bearer <KEY>", "Authorization: Bearer <KEY's value>")
      .option("--basic <USER_KEY:PASS_KEY>", "HTTP Basic from two KEYs")
      .option("--api-key <KEY>", "the KEY's value in a header (--header, default Authorization; --prefix)")
      .option("--header <name>", "with --api-key: the header")
      .option("--prefix <prefix>", "with --api-key: written before the value")
      .option("--custom <header>", '"Header: text with {{ KEY }}" (repeatable)', collect)
      .option("--passthrough", "attach nothing")
      .option("--disabled", "add it disabled")
      .option("-f, --file <service.json>", "the service(s) as JSON instead of flags")
      .action(
        action(io, async (ctx, name: string | undefined, opts: AddOptions) => {
          const client = ctx.vaultClient();
          let inputs: ServiceInput[];
          if (opts.file) {
            if (name || opts.host) throw new UsageError("-f takes the whole service from the file: no name or flags beside it");
            inputs = servicesFromFile(opts.file);
          } else {
            if (!name || !opts.host) throw new UsageError("a service needs a name and --host (or -f service.json)");
            inputs = [{ name, host: opts.host, enabled: !opts.disabled, auth: authFrom(opts) }];
          }
          const vaultName = await ctx.vaultName();
          const written: Service[] = [];
          for (const input of inputs) written.push(await client.vaults.services.upsert(vaultName, input));
          ctx.out.result({ services: written }, () => ctx.out.table(written, columns));
        }),
      ),
    "token-vault vault service add stripe --host api.stripe.com --bearer STRIPE_KEY",
    "token-vault vault service add openai --host api.openai.com --api-key OPENAI_KEY --prefix 'Bearer '",
    "token-vault vault service add -f service.json",
  );

  example(
    service
      .command("remove")
      .description("remove a service")
      .argument("<name>")
      .action(
        action(io, async (ctx, name: string) => {
          const removed = await ctx.vaultClient().vaults.services.delete(await ctx.vaultName(), name);
          ctx.out.result({ service: removed }, () => ctx.out.line(`Removed service ${removed.name}.`));
        }),
      ),
    "token-vault vault service remove stripe",
  );

  for (const enabled of [true, false]) {
    const verb = enabled ? "enable" : "disable";
    example(
      service
        .command(verb)
        .description(enabled ? "let the proxy use a service again" : "keep a service but refuse its requests (403 service_disabled)")
        .argument("<name>")
        .action(
          action(io, async (ctx, name: string) => {
            const client = ctx.vaultClient();
            const vaultName = await ctx.vaultName();
            const current = (await client.vaults.services.list(vaultName)).find((s) => s.name === name);
            if (!current) throw new UsageError(`no service "${name}" in ${vaultName}`);
            const updated = await client.vaults.services.upsert(vaultName, { name, host: current.host, enabled, auth: current.auth as ServiceInput["auth"] });
            ctx.out.result({ service: updated }, () => ctx.out.line(`${enabled ? "Enabled" : "Disabled"} service ${updated.name}.`));
          }),
        ),
      `token-vault vault service ${verb} stripe`,
    );
  }
}
