/**
 * Real Chromium for the portal's browser tests: Debian's `chromium` (scripts/ensure-chromium.mjs
 * installs it) driven by playwright-core, headless, kept off the network, with a fresh profile.
 * If it cannot start, the tests fail with a message saying why; they never skip.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];

export interface Browser {
  context: BrowserContext;
  close: () => Promise<void>;
}

export async function startBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "token-vault-chromium-"));
  let context: BrowserContext;
  try {
    // A persistent context is how Playwright takes a --user-data-dir: a fresh one per run.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(
      `Chromium could not be started from ${CHROMIUM_PATH}: ${(error as Error).message.split("\n")[0]}\n` +
        `The portal's browser tests need Debian's "chromium" package (run "node scripts/ensure-chromium.mjs" as root, or "apt-get install chromium").`,
    );
  }
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE_SOURCE = readFileSync(join(process.cwd(), "node_modules", "axe-core", "axe.min.js"), "utf8");

export interface AxeResult {
  url: string;
  violations: { id: string; impact: string | null; help: string; nodes: number }[];
  passes: number;
}

/**
 * Runs axe-core (node_modules/axe-core/axe.min.js, its content) in the page. The portal's CSP
 * refuses inline scripts, `page.addScriptTag({ content })` included, and weakening the CSP for
 * the tests would test another portal; so the same file is evaluated in the page through the
 * DevTools protocol, which CSP does not govern.
 */
export async function runAxe(page: Page): Promise<AxeResult> {
  // Strings, not functions: this file is compiled without the DOM library.
  if (!(await page.evaluate<boolean>('"axe" in window'))) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  const result = await page.evaluate<Omit<AxeResult, "url">>(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length })), passes: r.passes.length };
  })()`);
  return { url: page.url(), ...result };
}
