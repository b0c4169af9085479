import type { D1Migration } from "cloudflare:test";
import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      /** migrations/ in order, read by vitest.config.ts. */
      TEST_MIGRATIONS: D1Migration[];
      /** schema.sql as one migration-shaped entry. */
      TEST_SCHEMA: D1Migration;
      /** Empty databases for test/schema.integration.test.ts. */
      TEST_DB_MIGRATED: D1Database;
      TEST_DB_SCHEMA: D1Database;
      TEST_DB_LEGACY: D1Database;
      UPSTREAM_URL: string;
    }
  }
}
