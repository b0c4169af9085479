import { applyD1Migrations, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

/**
 * schema.sql is documentation of what migrations/ builds; these tests keep the two equal and
 * check that a database created before migrations existed (schema.sql applied directly, by the
 * old `db:apply:remote`) is adopted by the migrations without losing data.
 */

type Row = Record<string, unknown>;

async function all(db: D1Database, sql: string, ...args: string[]): Promise<Row[]> {
  return (await db.prepare(sql).bind(...args).all<Row>()).results;
}

/** Drops `--` comments (outside string literals), as SQLite keeps them in sqlite_master.sql. */
function stripComments(sql: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'") quoted = !quoted;
    if (!quoted && c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
      out += "\n";
      continue;
    }
    out += c;
  }
  return out;
}

const squash = (s: string) => s.replace(/\s+/g, " ").replace(/\s*([(),])\s*/g, "$1").trim();

/** Every `CHECK (...)` expression of a CREATE TABLE text (pragmas do not expose them). */
function checks(createSql: string): string[] {
  const sql = stripComments(createSql);
  const found: string[] = [];
  const re = /\bCHECK\s*\(/gi;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    let depth = 1;
    let quoted = false;
    let i = m.index + m[0].length;
    for (; i < sql.length && depth > 0; i++) {
      if (sql[i] === "'") quoted = !quoted;
      else if (!quoted && sql[i] === "(") depth++;
      else if (!quoted && sql[i] === ")") depth--;
    }
    found.push(squash(sql.slice(m.index + m[0].length, i - 1)));
  }
  return found.sort();
}

/**
 * Everything about a database's schema that code can observe: tables with their columns in
 * order (type, NOT NULL, default, primary key), CHECKs, foreign keys; indexes (explicit and
 * those behind UNIQUE/PRIMARY KEY) with their columns, uniqueness and partial WHERE; views and
 * triggers. Migration bookkeeping and SQLite/D1 internals are left out.
 */
async function describeSchema(db: D1Database) {
  const objects = await all(
    db,
    `SELECT type, name, tbl_name, sql FROM sqlite_master
     WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name <> 'd1_migrations'
     ORDER BY type, name`,
  );
  const tables: Record<string, unknown> = {};
  for (const table of objects.filter((o) => o.type === "table")) {
    const name = String(table.name);
    const [shape] = await all(db, "SELECT ncol, wr, strict FROM pragma_table_list WHERE schema = 'main' AND name = ?", name);
    const columns = (await all(db, "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", name)).map(
      (c) => ({ ...c, type: String(c.type).toUpperCase() }),
    );
    const foreignKeys = await all(db, "SELECT \"table\", \"from\", \"to\", on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY \"from\"", name);
    const indexes: Record<string, unknown> = {};
    for (const index of await all(db, "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?) ORDER BY name", name)) {
      const keys = await all(db, "SELECT seqno, name, \"desc\", coll FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", String(index.name));
      const sql = objects.find((o) => o.type === "index" && o.name === index.name)?.sql;
      const where = typeof sql === "string" ? /\bWHERE\b([\s\S]*)$/i.exec(stripComments(sql))?.[1] : undefined;
      indexes[String(index.name)] = { ...index, keys, where: where === undefined ? null : squash(where) };
    }
    tables[name] = { shape, columns, checks: checks(String(table.sql)), foreignKeys, indexes };
  }
  const others = objects
    .filter((o) => o.type === "view" || o.type === "trigger")
    .map((o) => ({ type: o.type, name: o.name, table: o.tbl_name, sql: squash(stripComments(String(o.sql))) }));
  return { tables, others };
}

/** Table names schema.sql creates, read from its statements (so the comparison is never of two empty sets). */
const schemaTables = env.TEST_SCHEMA.queries
  .map((q) => /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)/i.exec(q)?.[1])
  .filter((name): name is string => name !== undefined);

describe("migrations and schema.sql", () => {
  it("applying every migration to an empty database gives exactly schema.sql's tables, columns and indexes", async () => {
    await applyD1Migrations(env.TEST_DB_MIGRATED, env.TEST_MIGRATIONS);
    await env.TEST_DB_SCHEMA.batch(env.TEST_SCHEMA.queries.map((q) => env.TEST_DB_SCHEMA.prepare(q)));

    const fromMigrations = await describeSchema(env.TEST_DB_MIGRATED);
    const fromSchema = await describeSchema(env.TEST_DB_SCHEMA);
    expect(schemaTables.length).toBeGreaterThanOrEqual(9);
    expect(Object.keys(fromSchema.tables).sort()).toEqual([...schemaTables].sort());
    expect(fromMigrations).toEqual(fromSchema);
  });

  it("names migrations NNNN_name.sql in strictly increasing order, and the test database has them all", async () => {
    const names = env.TEST_MIGRATIONS.map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(1);
    for (const name of names) expect(name).toMatch(/^\d{4}_[\w-]+\.sql$/);
    const numbers = names.map((n) => Number(n.slice(0, 4)));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));
    // The setup file migrated env.DB, recording each migration as wrangler does.
    const applied = await all(env.DB, "SELECT name FROM d1_migrations ORDER BY id");
    expect(applied.map((r) => r.name)).toEqual(names);
  });

  it("adopts a database created before migrations (schema.sql applied directly), keeping its rows", async () => {
    const db = env.TEST_DB_LEGACY;
    // What the old `db:apply:remote` / `npm run dev` did: 0001's statements, no d1_migrations table.
    const [initial] = env.TEST_MIGRATIONS;
    expect(initial?.name).toBe("0001_initial.sql");
    await db.batch(initial!.queries.map((q) => db.prepare(q)));
    await db
      .prepare("INSERT INTO teams (id, name, plan, key_salt, created_at) VALUES ('team_legacy', 'Legacy', 'free', 'c2FsdA==', '2026-01-01T00:00:00.000Z')")
      .run();

    // `wrangler d1 migrations apply` does the same: 0001 is a no-op on the existing tables, then recorded.
    await applyD1Migrations(db, env.TEST_MIGRATIONS);

    const applied = await all(db, "SELECT name FROM d1_migrations ORDER BY id");
    expect(applied.map((r) => r.name)).toEqual(env.TEST_MIGRATIONS.map((m) => m.name));
    expect(await all(db, "SELECT id, name, plan FROM teams")).toEqual([{ id: "team_legacy", name: "Legacy", plan: "free" }]);
    await env.TEST_DB_SCHEMA.batch(env.TEST_SCHEMA.queries.map((q) => env.TEST_DB_SCHEMA.prepare(q)));
    expect(await describeSchema(db)).toEqual(await describeSchema(env.TEST_DB_SCHEMA));
  });
});
