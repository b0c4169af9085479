/**
 * `token-vault/client` as a dependent project gets it: the package name resolves from Node to
 * the built bundle, the bundle holds no server code, and the declarations type-check under
 * Node's and Workers' settings. dist/ is built by `npm ci` (the prepare script) and `npm test`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TSC = fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url));
const FIXTURE = fileURLToPath(new URL("../fixtures/client-consumer/", import.meta.url));

describe("the token-vault/client package entry", () => {
  it("resolves by package name from plain Node to the built ES module", () => {
    const script = `const m = await import("token-vault/client");
console.log(JSON.stringify({ url: import.meta.resolve("token-vault/client"), exports: Object.keys(m).sort(), vault: typeof new m.Vault({ baseUrl: "http://x" }).tasks.wait }));`;
    const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" })) as { url: string; exports: string[]; vault: string };
    expect(out.url.endsWith("/dist/client/index.js")).toBe(true);
    expect(out.exports).toEqual(["CLIENT_ERROR_CODES", "Vault", "VaultError"]);
    expect(out.vault).toBe("function");
  });

  it("bundles no server code and no dependency", () => {
    const bundle = readFileSync(new URL("../../dist/client/index.js", import.meta.url), "utf8");
    expect(bundle).not.toMatch(/cloudflare:/);
    expect(bundle).not.toMatch(/\bD1|\.prepare\(|DurableObject|crypto\.subtle/);
    expect(bundle).not.toMatch(/from\s*["']|require\(/);
    // Only client modules and the pure task-status table (src/tasks/model.ts) are bundled.
    const modules = [...bundle.matchAll(/^\/\/ (src\/\S+)$/gm)].map((m) => m[1]);
    expect(modules.filter((m) => !m?.startsWith("src/client/"))).toEqual(["src/tasks/model.ts"]);
  });

  it.each(["tsconfig.node.json", "tsconfig.workers.json"])("declarations type-check for a consumer (%s, skipLibCheck off)", (config) => {
    let diagnostics = "";
    try {
      execFileSync(process.execPath, [TSC, "-p", config], { cwd: FIXTURE, encoding: "utf8" });
    } catch (error) {
      // tsc prints its diagnostics on stdout and exits non-zero.
      diagnostics = String((error as { stdout?: unknown }).stdout || error);
    }
    expect(diagnostics).toBe("");
  });
});
