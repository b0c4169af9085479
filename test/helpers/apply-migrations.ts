import { applyD1Migrations, env } from "cloudflare:test";

// The same migrations/ that `npm run dev` and deployments apply (`wrangler d1 migrations
// apply`), read and split in vitest.config.ts. Already applied ones are skipped, as wrangler does.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
