/**
 * Real Chromium for the portal's browser tests: Debian's `chromium` (scripts/ensure-chromium.mjs
 * installs it) driven by playwright-core, headless, kept off the network, with a fresh profile.
 * If it cannot start, the tests fail with a message saying why; they never skip.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";

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

/** The password of every person the browser suites sign up. */
export const PASSWORD = "correct-horse-battery-staple";

/** A client address of its own per request (a documentation range), so login throttling never trips. */
export const address = (net = "203.0.113") => ({ "cf-connecting-ip": `${net}.${Math.floor(Math.random() * 250)}` });

export interface PortalSession {
  /** The one page of the run (set once Chromium has started). */
  page: Page;
  /** Every value stored during the run: none may ever appear in a page. */
  stored: string[];
  /** Messages of dialogs the page opened (each is dismissed): a hostile text must open none. */
  dialogs: string[];
  consoleErrors: string[];
  /** After a step: the stored values searched for in the page's HTML, axe-core, a screenshot. */
  check(step: string): Promise<void>;
  /** The page's path and query. */
  path(): string;
  /** Where the suite's screenshots and reports go (test-results/<name>/). */
  shots: string;
}

/**
 * A browser suite's session, its hooks registered in the calling file: Chromium started before
 * the file's own hooks (if it cannot start, every test fails with why: a failed hook would report
 * them as skipped), screenshots and axe-core results in test-results/<name>/, the browser closed
 * at the end.
 */
export function portalSession(name: string): PortalSession {
  const shots = join(process.cwd(), "test-results", name);
  const axeResults: (AxeResult & { step: string })[] = [];
  let browser: Browser | undefined;
  let launchError: Error | undefined;
  let shot = 0;
  const session: PortalSession = {
    page: undefined as unknown as Page,
    stored: [],
    dialogs: [],
    consoleErrors: [],
    async check(step) {
      const { page } = session;
      await page.waitForLoadState("load");
      const html = await page.content();
      for (const value of session.stored) expect(html.includes(value), `a stored value is in the page after "${step}"`).toBe(false);
      const axe = await runAxe(page);
      axeResults.push({ step, ...axe });
      const serious = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(serious, `axe-core on "${step}" (${axe.url})`).toEqual([]);
      await page.screenshot({ path: join(shots, `${String(++shot).padStart(2, "0")}-${step}.png`), fullPage: true });
    },
    path: () => new URL(session.page.url()).pathname + new URL(session.page.url()).search,
    shots,
  };
  beforeAll(async () => {
    rmSync(shots, { recursive: true, force: true });
    mkdirSync(shots, { recursive: true });
    try {
      browser = await startBrowser();
    } catch (error) {
      launchError = error as Error;
      return;
    }
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(10_000);
    page.on("dialog", (dialog) => {
      session.dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on("console", (message) => {
      if (message.type() === "error") session.consoleErrors.push(message.text());
    });
    session.page = page;
  });
  beforeEach(() => {
    if (launchError) throw launchError;
  });
  afterAll(async () => {
    writeFileSync(join(shots, "axe-results.json"), JSON.stringify(axeResults, null, 2));
    await browser?.close();
  });
  return session;
}
