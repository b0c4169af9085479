/**
 * Builds `token-vault/client` into dist/ (git-ignored): one ES module bundle for Node 20+ and
 * Workers, and its type declarations; then the `token-vault` bin (dist/cli/token-vault.js),
 * which imports that same bundle (no second HTTP layer) and commander. Runs as the package's `prepare` script, so `npm ci` on a
 * fresh clone builds it with no further step; `npm test` runs it again first.
 *
 * It fails when the client would carry server code: the bundle may only hold repository
 * sources (no dependency, no `cloudflare:` import), and the declarations are checked without
 * the Workers types (tsconfig.client.json).
 */
import { execFileSync } from "node:child_process";
import { chmodSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT = join(ROOT, "dist");

rmSync(join(OUT, "client"), { recursive: true, force: true });
rmSync(join(OUT, "types"), { recursive: true, force: true });
rmSync(join(OUT, "cli"), { recursive: true, force: true });

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: ["src/client/index.ts"],
  outfile: "dist/client/index.js",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
const inputs = Object.keys(result.metafile.inputs);
const foreign = inputs.filter((file) => !file.startsWith("src/") || file.startsWith("cloudflare:"));
if (foreign.length > 0) throw new Error(`the client bundle must hold only src/ modules, found: ${foreign.join(", ")}`);

// Declarations, checked without Workers types.
execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.client.json"], { cwd: ROOT, stdio: "inherit" });

// tsc keeps the extensionless specifiers of the sources; Node's ESM resolution (TypeScript's
// node16/nodenext) needs them explicit in a "type": "module" package.
for (const file of walk(join(OUT, "types"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/((?:from|import)\s*\(?\s*)(["'])(\.{1,2}\/[^"']*)\2/g, (match, lead, quote, spec) => {
    if (/\.js$/.test(spec)) return match;
    const base = join(dirname(file), spec);
    if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
    if (existsSync(join(base, "index.d.ts"))) return `${lead}${quote}${spec}/index.js${quote}`;
    throw new Error(`${relative(ROOT, file)}: cannot resolve ${spec}`);
  });
  if (fixed !== text) writeFileSync(file, fixed);
}

console.log(`token-vault/client built: dist/client/index.js (${inputs.length} modules), dist/types/client/index.d.ts`);

// The bin. The client is imported from its built bundle, not copied into the CLI: the CLI is a
// user of `token-vault/client` like any other.
const CLIENT_ENTRY = join(ROOT, "src/client/index.ts");
const cli = await build({
  absWorkingDir: ROOT,
  entryPoints: ["src/cli/index.ts"],
  outfile: "dist/cli/token-vault.js",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
  external: ["commander"],
  metafile: true,
  logLevel: "warning",
  plugins: [
    {
      name: "token-vault-client",
      setup(b) {
        b.onResolve({ filter: /\/client(\/index)?$/ }, (args) =>
          join(args.resolveDir, args.path) === CLIENT_ENTRY.replace(/\.ts$/, "") || join(args.resolveDir, args.path) === join(ROOT, "src/client")
            ? { path: "../client/index.js", external: true }
            : undefined,
        );
      },
    },
  ],
});
const cliInputs = Object.keys(cli.metafile.inputs);
const stray = cliInputs.filter((file) => !file.startsWith("src/cli/"));
if (stray.length > 0) throw new Error(`the CLI bundle must hold only src/cli/ modules (the client is imported), found: ${stray.join(", ")}`);
chmodSync(join(OUT, "cli/token-vault.js"), 0o755);
console.log(`token-vault bin built: dist/cli/token-vault.js (${cliInputs.length} modules)`);

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else if (name.endsWith(".d.ts")) yield path;
  }
}
