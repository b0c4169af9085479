#!/usr/bin/env node
// Creates this Worker's Cloudflare resources for one environment and writes the D1 database id
// into wrangler.toml, so nobody copies ids by hand:
//   npm run cf:setup                    production (the top level of wrangler.toml)
//   npm run cf:setup -- --env staging   [env.staging]
// Idempotent: a database_id already written is kept; a database that exists under the configured
// name is reused (`wrangler d1 list --json`); queues that exist already are left as they are.
// Needs `wrangler login` or CLOUDFLARE_API_TOKEN (+ CLOUDFLARE_ACCOUNT_ID for several accounts).
// CF_SETUP_WRANGLER names another wrangler executable (the tests use a fake one).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const PLACEHOLDER_ID = "00000000-0000-4000-8000-000000000000";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The `[...]` / `[[...]]` sections of a TOML file, with their line ranges. */
function sections(toml) {
  const lines = toml.split("\n");
  const found = [];
  lines.forEach((line, i) => {
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header) {
      if (found.length) found[found.length - 1].end = i;
      found.push({ name: header[1], start: i, end: lines.length });
    }
  });
  return { lines, found };
}

const prefixFor = (env) => (env ? `env.${env}.` : "");
const valueIn = (lines, from, to, key) => {
  for (let i = from + 1; i < to; i++) {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`).exec(lines[i]);
    if (m) return { value: m[1], line: i };
  }
  return undefined;
};

/** What `--env <env>` (or the top level) declares: its D1 database and its queues. */
export function resourcesOf(toml, env) {
  const { lines, found } = sections(toml);
  const prefix = prefixFor(env);
  const d1 = found.find((s) => s.name === `${prefix}d1_databases`);
  if (!d1) throw new Error(`wrangler.toml has no [[${prefix}d1_databases]]`);
  const databaseName = valueIn(lines, d1.start, d1.end, "database_name")?.value;
  const databaseId = valueIn(lines, d1.start, d1.end, "database_id")?.value;
  if (!databaseName) throw new Error(`[[${prefix}d1_databases]] has no database_name`);
  const queues = new Set();
  for (const s of found.filter((s) => s.name === `${prefix}queues.producers` || s.name === `${prefix}queues.consumers`)) {
    for (const key of ["queue", "dead_letter_queue"]) {
      const q = valueIn(lines, s.start, s.end, key)?.value;
      if (q) queues.add(q);
    }
  }
  return { databaseName, databaseId, queues: [...queues] };
}

/** wrangler.toml with `database_id` of the environment's D1 database set to `id`. */
export function withDatabaseId(toml, env, id) {
  if (!UUID.test(id)) throw new Error(`not a D1 database id: ${id}`);
  const { lines, found } = sections(toml);
  const d1 = found.find((s) => s.name === `${prefixFor(env)}d1_databases`);
  const at = d1 && valueIn(lines, d1.start, d1.end, "database_id");
  if (!at) throw new Error(`[[${prefixFor(env)}d1_databases]] has no database_id line to patch`);
  lines[at.line] = lines[at.line].replace(/"[^"]*"/, `"${id}"`);
  return lines.join("\n");
}

/** The id in `wrangler d1 create`'s output (it prints a TOML or JSON snippet holding it). */
export function databaseIdFromCreate(output) {
  const m = /database_id"?\s*[:=]\s*"([0-9a-f-]{36})"/i.exec(output);
  if (!m) throw new Error(`could not find database_id in wrangler's output:\n${output}`);
  return m[1];
}

/** The id of the database called `name` in `wrangler d1 list --json`, if any. */
export function databaseIdFromList(output, name) {
  const start = output.indexOf("[");
  if (start < 0) return undefined;
  const list = JSON.parse(output.slice(start));
  return list.find((db) => db.name === name)?.uuid;
}

function run(wrangler, args) {
  const [cmd, ...pre] = wrangler;
  const result = spawnSync(cmd, [...pre, ...args], { encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return { status: result.status ?? 1, output: `${result.stdout ?? ""}${result.stderr ?? ""}` };
}

export function setup({ configPath, env, wrangler, log = console.log }) {
  const toml = readFileSync(configPath, "utf8");
  const { databaseName, databaseId, queues } = resourcesOf(toml, env);
  const label = env ? `--env ${env}` : "production";
  if (databaseId && databaseId !== PLACEHOLDER_ID) {
    log(`[cf:setup] ${label}: D1 database ${databaseName} already set (${databaseId})`);
  } else {
    const list = run(wrangler, ["d1", "list", "--json"]);
    let id = list.status === 0 ? databaseIdFromList(list.output, databaseName) : undefined;
    if (id) {
      log(`[cf:setup] ${label}: D1 database ${databaseName} exists (${id})`);
    } else {
      const created = run(wrangler, ["d1", "create", databaseName]);
      if (created.status !== 0) throw new Error(`wrangler d1 create ${databaseName} failed:\n${created.output}`);
      id = databaseIdFromCreate(created.output);
      log(`[cf:setup] ${label}: created D1 database ${databaseName} (${id})`);
    }
    writeFileSync(configPath, withDatabaseId(toml, env, id));
    log(`[cf:setup] ${label}: wrote database_id ${id} into ${configPath}`);
  }
  for (const queue of queues) {
    const created = run(wrangler, ["queues", "create", queue]);
    if (created.status === 0) log(`[cf:setup] ${label}: created queue ${queue}`);
    else if (/already (exists|taken)|11009/i.test(created.output)) log(`[cf:setup] ${label}: queue ${queue} exists`);
    else throw new Error(`wrangler queues create ${queue} failed:\n${created.output}`);
  }
  const envFlag = env ? ` --env ${env}` : "";
  log(`[cf:setup] ${label}: done. Next: secrets (wrangler secret put <NAME>${envFlag}), then npm run db:migrate:remote${env ? `:${env}` : ""} and npm run deploy${env ? `:${env}` : ""}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const args = process.argv.slice(2);
  const envAt = args.findIndex((a) => a === "--env" || a === "-e");
  const env = envAt >= 0 ? args[envAt + 1] : args.find((a) => a.startsWith("--env="))?.slice(6);
  const configAt = args.indexOf("--config");
  const configPath = configAt >= 0 ? args[configAt + 1] : join(root, "wrangler.toml");
  const wranglerJs = process.env.CF_SETUP_WRANGLER ?? join(root, "node_modules", "wrangler", "bin", "wrangler.js");
  const wrangler = /\.[cm]?js$/.test(wranglerJs) ? [process.execPath, wranglerJs] : [wranglerJs];
  try {
    setup({ configPath, env: env || undefined, wrangler });
  } catch (error) {
    console.error(`[cf:setup] ${error.message}`);
    process.exit(1);
  }
}
