import { z } from "zod";

/** Shared request/response pieces. */
export const ErrorBody = z.object({ error: z.string() }).catchall(z.unknown()).meta({ id: "Error" });

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

export const isoDate = z.string().describe("ISO 8601 timestamp");
