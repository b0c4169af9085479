import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { readMigrations, readSchema } from "./scripts/d1-migrations.mjs";
import { TEST_ADMIN_TOKEN, TEST_API_KEY_SECRET, TEST_JWT_SECRET, TEST_MASTER_KEY_V1 } from "./test/helpers/constants.ts";

/**
 * Two projects:
 *  - workers: unit and integration tests inside workerd with the real local D1, Durable
 *    Object and Queue from wrangler.toml (no mocks).
 *  - e2e: Node tests that start the real local server (`npm run dev`'s script) and talk
 *    HTTP to it, as a user's curl would.
 */
/**
 * Drops one Vite warning: itty-router ships a sourcemap naming sources outside its package,
 * which Vite reports once per source file on every run. Nothing to act on here. (A plugin,
 * because vitest replaces any customLogger with its own.)
 */
const quietIttyRouterSourcemaps: Plugin = {
  name: "quiet-itty-router-sourcemaps",
  configResolved(config) {
    const warnOnce = config.logger.warnOnce.bind(config.logger);
    config.logger.warnOnce = (message, options) => {
      if (!/Sourcemap for .*node_modules\/itty-router\/.* points to a source file outside its package/.test(message)) warnOnce(message, options);
    };
  },
};

export default defineConfig({
  test: {
    // Logs (the Worker's JSON lines included) are shown for failing tests only. These are
    // root options: vitest ignores them inside a project.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          quietIttyRouterSourcemaps,
          cloudflareTest(async ({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Empty databases for test/schema.integration.test.ts (migrations vs schema.sql).
              d1Databases: { TEST_DB_MIGRATED: "test-db-migrated", TEST_DB_SCHEMA: "test-db-schema", TEST_DB_LEGACY: "test-db-legacy" },
              bindings: {
                // Every secret is set here, so a developer's .dev.vars cannot change what the tests run with.
                VAULT_MASTER_KEY: TEST_MASTER_KEY_V1,
                VAULT_MASTER_KEYS: "",
                ADMIN_TOKEN: TEST_ADMIN_TOKEN,
                JWT_SECRET: TEST_JWT_SECRET,
                API_KEY_SECRET: TEST_API_KEY_SECRET,
                // The built-in cut-off for keys issued before checksums (auth/legacy-keys.ts).
                LEGACY_API_KEYS_BEFORE: "",
                ALLOW_LOOPBACK_TARGETS: "true",
                // migrations/ (applied to DB by test/helpers/apply-migrations.ts) and schema.sql, split by wrangler.
                TEST_MIGRATIONS: await readMigrations(),
                TEST_SCHEMA: readSchema(),
                // The fake third-party APIs (test/fakes/upstream.ts), started by the global setup.
                UPSTREAM_URL: `http://127.0.0.1:${inject("upstreamPort")}`,
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.unit.test.ts", "test/**/*.integration.test.ts"],
          setupFiles: ["test/helpers/apply-migrations.ts"],
          globalSetup: ["test/fakes/global-setup.ts"],
          // Queue-driven tests wait on real deliveries (the local queue batches for up to 1 s).
          // These are limits against a hang, not timings: the fuzz corpus sends dozens of requests
          // per route and shares 2 cores with the e2e project, the local server and Chromium.
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.e2e.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // One local server is shared by the e2e files; run them one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
