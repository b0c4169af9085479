// The one reader of the D1 schema files for Node-side tooling (vitest.config.ts, the bench).
// Everything is split into statements by wrangler's own splitter (the one `readD1Migrations`
// and `wrangler d1 migrations apply` use), so there is no second SQL splitter in this repo.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { unstable_splitSqlQuery } from "wrangler";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** wrangler.toml's `migrations_dir`. */
export const MIGRATIONS_DIR = join(ROOT, "migrations");
export const SCHEMA_FILE = join(ROOT, "schema.sql");
/** wrangler's default `migrations_table`, also the default of `applyD1Migrations`. */
export const MIGRATIONS_TABLE = "d1_migrations";

/** Every migration in order, as `{ name, queries }` (the shape `applyD1Migrations` takes). */
export function readMigrations() {
  return readD1Migrations(MIGRATIONS_DIR);
}

/** schema.sql, the complete current schema, as one migration-shaped entry. */
export function readSchema() {
  return { name: "schema.sql", queries: unstable_splitSqlQuery(readFileSync(SCHEMA_FILE, "utf8")) };
}

/**
 * Applies the migrations not yet recorded to a D1 database reached from Node (Miniflare's
 * `getD1Database()`), with the bookkeeping of `wrangler d1 migrations apply` and of
 * `applyD1Migrations` from `cloudflare:test`: one batch per migration, recorded by name.
 * Returns the names applied.
 */
export async function applyMigrations(db, migrations) {
  await db
    .prepare(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
    )
    .run();
  const { results } = await db.prepare(`SELECT name FROM ${MIGRATIONS_TABLE}`).all();
  const applied = new Set(results.map((row) => row.name));
  const done = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    await db.batch([...migration.queries.map((sql) => db.prepare(sql)), db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (name) VALUES (?)`).bind(migration.name)]);
    done.push(migration.name);
  }
  return done;
}
