import { z } from "zod";
import { ERROR_CODES } from "../errors";
import { ID_BODY, ID_KINDS, type IdPrefix } from "../ids";

/** Shared request/response pieces. */
export const ErrorBody = z
  .object({
    error: z.string().describe("Human-readable message; may change, never switch on it"),
    code: z.enum(ERROR_CODES).describe("Stable machine-readable code (see the error catalog)"),
    requestId: z.string().optional().describe("On 500: finds the logged details"),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe("On validation_failed: each offending field by path"),
  })
  .catchall(z.unknown())
  .meta({ id: "Error", description: "Every error response: `error` and `code`, plus details named per code" });

/** A path parameter holding an id of one kind, e.g. `idParam("tok")`: `tok_` + 26 lowercase characters. */
export function idParam(prefix: IdPrefix) {
  return z.string().regex(new RegExp(`^${prefix}_${ID_BODY}$`), `must be ${ID_KINDS[prefix]} id (${prefix}_...)`);
}

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  cursor: z.string().min(1).max(64).optional().describe("Id of the last item of the previous page; pages older items"),
});
export type PageQuery = z.output<typeof PageQuery>;

export const Pagination = z.object({
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  hasMore: z.boolean(),
  nextCursor: z.string().nullable(),
});

/** Repositories fetch `limit + 1` rows so `hasMore` is known without guessing. */
export function paginate<T extends { id: string }>(rows: T[], total: number, page: PageQuery) {
  const items = rows.slice(0, page.limit);
  const hasMore = rows.length > page.limit;
  const last = items[items.length - 1];
  return {
    items,
    pagination: { total, limit: page.limit, offset: page.offset, hasMore, nextCursor: hasMore && last ? last.id : null },
  };
}

/**
 * One page of a team's rows, newest first, by offset or by cursor, with the total: both
 * queries in one D1 batch (one round trip). `filters` are column = value conditions; table
 * and column names come from code, never from input; `where` is more SQL from code, its
 * values bound from `whereArgs`.
 */
export async function listPage<T extends { id: string }>(
  db: D1Database,
  query: { table: string; columns?: string; filters: Record<string, string | number | undefined>; where?: string; whereArgs?: (string | number)[] },
  page: PageQuery,
) {
  const conditions: string[] = [];
  const args: (string | number)[] = [];
  for (const [column, value] of Object.entries(query.filters)) {
    if (value === undefined) continue;
    conditions.push(`${column} = ?`);
    args.push(value);
  }
  if (query.where) {
    conditions.push(query.where);
    args.push(...(query.whereArgs ?? []));
  }
  const filter = conditions.join(" AND ");
  const columns = query.columns ?? "*";
  const rows = page.cursor
    ? db.prepare(`SELECT ${columns} FROM ${query.table} WHERE ${filter} AND id < ? ORDER BY id DESC LIMIT ?`).bind(...args, page.cursor, page.limit + 1)
    : db.prepare(`SELECT ${columns} FROM ${query.table} WHERE ${filter} ORDER BY id DESC LIMIT ? OFFSET ?`).bind(...args, page.limit + 1, page.offset);
  const count = db.prepare(`SELECT COUNT(*) AS n FROM ${query.table} WHERE ${filter}`).bind(...args);
  const [list, total] = await db.batch<T | { n: number }>([rows, count]);
  return paginate((list?.results ?? []) as T[], (total?.results[0] as { n: number } | undefined)?.n ?? 0, page);
}

export const isoDate = z.string().meta({ format: "date-time", description: "ISO 8601 timestamp" });
