import type { z } from "zod";
import type { PageQuery, Pagination } from "../api/common";

export type PageInfo = z.output<typeof Pagination>;

/** `limit`, `offset`, `cursor` of every paginated route (`iterate` pages with the cursor itself). */
export type PageOptions = Partial<z.output<typeof PageQuery>>;

/**
 * Every item of a paginated list, page after page (cursor paging, so items created meanwhile
 * neither repeat nor shift the pages). `limit` sets the page size, not the total.
 */
export async function* iteratePages<T, Q extends PageOptions>(fetchPage: (query: Q) => Promise<{ items: T[]; pagination: PageInfo }>, query: Q): AsyncGenerator<T, void, undefined> {
  let next: Q = { ...query, offset: undefined };
  for (;;) {
    const page = await fetchPage(next);
    yield* page.items;
    if (!page.pagination.hasMore || !page.pagination.nextCursor) return;
    next = { ...next, cursor: page.pagination.nextCursor };
  }
}
