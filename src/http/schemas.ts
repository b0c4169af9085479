import type { PageQuery } from "../api/common";

// The schemas live in api/common.ts (no server imports: the client reads them); re-exported for the server side.
export { ErrorBody, idParam, isoDate, PageQuery, Pagination } from "../api/common";

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
