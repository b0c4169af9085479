/**
 * Runs the built `token-vault` bin (dist/cli/token-vault.js, built by `npm ci`/`npm test`) as a
 * user does: its own process, its shebang, a clean environment (no inherited TOKEN_VAULT_*),
 * stdin given or closed. Every run is recorded so a suite can search all stdout and stderr for
 * a canary afterwards, except runs that asked for a value on purpose (`revealed`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "dist/cli/token-vault.js");

export interface CliRun {
  args: string[];
  status: number | null;
  stdout: string;
  stderr: string;
  /** `JSON.parse(stdout)` when it parses. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read arbitrary JSON shapes
  json: any;
  revealed: boolean;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** This run asks for a value (`get`, `--reveal`): left out of the canary search. */
  revealed?: boolean;
}

export const runs: CliRun[] = [];
/** Every config dir and working directory handed to a run: the canary search reads their files. */
export const dirs: string[] = [];

/** A user's environment: PATH and HOME only, a config dir of its own unless given. */
export function userEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TOKEN_VAULT_CONFIG_DIR: tempDir("cfg"), ...extra };
}

export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `token-vault-cli-${label}-`));
  dirs.push(dir);
  return dir;
}

export function cli(args: string[], options: CliOptions = {}): CliRun {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build`);
  const env = Object.fromEntries(Object.entries(options.env ?? userEnv()).filter((e): e is [string, string] => e[1] !== undefined));
  const result = spawnSync(BIN, args, { cwd: options.cwd ?? tempDir("cwd"), env, input: options.input ?? "", encoding: "utf8", timeout: 60_000 });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  const run: CliRun = { args, status: result.status, stdout: result.stdout, stderr: result.stderr, json, revealed: options.revealed === true };
  runs.push(run);
  return run;
}

/** Where `needle` appears: in runs that did not ask for a reveal, and in every file under `dirs`. */
export function leaks(needle: string): string[] {
  const hits: string[] = [];
  for (const run of runs) {
    if (run.revealed) continue;
    if (run.stdout.includes(needle)) hits.push(`stdout of token-vault ${run.args.join(" ")}`);
    if (run.stderr.includes(needle)) hits.push(`stderr of token-vault ${run.args.join(" ")}`);
  }
  for (const file of dirs.flatMap((dir) => walk(dir))) if (readFileSync(file, "utf8").includes(needle)) hits.push(file);
  return hits;
}

export function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
