import type { Env as WorkerEnv } from "../src/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      TEST_SCHEMA_SQL: string;
      UPSTREAM_URL: string;
    }
  }
}
