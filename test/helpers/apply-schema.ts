import { env } from "cloudflare:workers";
import { applyD1Migrations } from "cloudflare:test";

// The same schema.sql that `npm run dev` and deployments apply, split into statements.
const statements = env.TEST_SCHEMA_SQL.split(/;\s*(?:\n|$)/)
  .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
  .filter(Boolean);
await applyD1Migrations(env.DB, [{ name: "schema.sql", queries: statements }]);
