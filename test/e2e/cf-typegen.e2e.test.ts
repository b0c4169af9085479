/**
 * Issue 16: the Env that wrangler generates from wrangler.toml (`npm run cf-typegen`, committed
 * as worker-configuration.d.ts) and the hand-written Env of src/env.ts agree: every binding and
 * var of every environment (production and staging) is declared in src/env.ts with the same
 * kind, and every binding src/env.ts expects is configured. The committed file must also be
 * current (`wrangler types --check`), so a wrangler.toml change without a typegen fails here.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/** `{ NAME: "Type" }` of each interface named in `names` found in a declaration file. */
export function interfaceMembers(source: string, name: string): Record<string, string> {
  const start = new RegExp(`interface ${name}(?:<[^>]*>)?\\s*(?:extends [^{]*)?\\{`).exec(source);
  if (!start) throw new Error(`no interface ${name}`);
  let depth = 1;
  let i = start.index + start[0].length;
  const from = i;
  for (; i < source.length && depth > 0; i++) {
    if (source[i] === "{") depth++;
    if (source[i] === "}") depth--;
  }
  const body = source
    .slice(from, i - 1)
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
  const members: Record<string, string> = {};
  for (const m of body.matchAll(/^\s*([A-Z_][A-Z0-9_]*)\??\s*:\s*([^;]+);/gm)) members[m[1]!] = m[2]!.trim();
  return members;
}

/** A type reduced to what must agree: its kind, and for Durable Objects the class name. */
export function kindOf(type: string): string {
  const ns = /^DurableObjectNamespace<(?:import\([^)]*\)\.)?(\w+)>$/.exec(type);
  if (ns) return `DurableObjectNamespace<${ns[1]}>`;
  if (/^("[^"]*"|string)$/.test(type)) return "string";
  return type.replace(/<.*>$/, "");
}

/** Disagreements between a generated Env and src/env.ts's Env. */
export function disagreements(generated: Record<string, string>, declared: Record<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, type] of Object.entries(generated)) {
    if (!(name in declared)) problems.push(`${name}: configured (${type}) but not in src/env.ts`);
    else if (kindOf(type) !== kindOf(declared[name]!)) problems.push(`${name}: configured as ${kindOf(type)}, src/env.ts says ${kindOf(declared[name]!)}`);
  }
  for (const [name, type] of Object.entries(declared)) {
    // Strings may be secrets, which wrangler.toml never lists; a binding must be configured.
    if (kindOf(type) !== "string" && !(name in generated)) problems.push(`${name}: src/env.ts expects ${kindOf(type)} but wrangler.toml does not configure it`);
  }
  return problems;
}

describe("generated Env vs src/env.ts", () => {
  const generatedSource = readFileSync(join(ROOT, "worker-configuration.d.ts"), "utf8");
  const declared = interfaceMembers(readFileSync(join(ROOT, "src/env.ts"), "utf8"), "Env");

  it("the committed worker-configuration.d.ts is what npm run cf-typegen generates now", () => {
    const script = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts["cf-typegen"] as string;
    const args = script.split(" ").slice(1);
    const run = spawnSync(process.execPath, [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args, "--check"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true" },
    });
    expect(run.status, `${run.stdout}${run.stderr}\nrun npm run cf-typegen and commit worker-configuration.d.ts`).toBe(0);
  });

  it.each(["Env", "StagingEnv"])("Cloudflare.%s agrees with src/env.ts", (name) => {
    const generated = interfaceMembers(generatedSource, name);
    expect(Object.keys(generated)).toEqual(expect.arrayContaining(["DB", "TASKS", "TEAM_GATE", "LOGIN_THROTTLE"]));
    expect(disagreements(generated, declared)).toEqual([]);
  });

  it("notices a binding that is missing, renamed or of another kind", () => {
    const generated = interfaceMembers(generatedSource, "Env");
    const { DB: _db, ...withoutDb } = generated;
    expect(disagreements(withoutDb, declared)).toEqual(["DB: src/env.ts expects D1Database but wrangler.toml does not configure it"]);
    expect(disagreements({ ...generated, CACHE: "KVNamespace" }, declared)).toEqual(["CACHE: configured (KVNamespace) but not in src/env.ts"]);
    expect(disagreements({ ...generated, TASKS: "D1Database" }, declared)).toEqual(["TASKS: configured as D1Database, src/env.ts says Queue"]);
    expect(disagreements({ ...generated, TEAM_GATE: 'DurableObjectNamespace<import("./src/index").Other>' }, declared)).toEqual([
      "TEAM_GATE: configured as DurableObjectNamespace<Other>, src/env.ts says DurableObjectNamespace<TeamGate>",
    ]);
  });
});
