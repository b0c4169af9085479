import { z } from "zod";
import { ERROR_CODES } from "../errors";
import { ID_BODY, ID_KINDS, type IdPrefix } from "../ids";

/**
 * The HTTP contract's shared pieces. Modules under src/api/ hold the zod schemas of the routes'
 * requests and responses and import nothing server-side (only zod and pure constants), so the
 * typed client (src/client) takes its types from them without pulling in storage code.
 */
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

export const isoDate = z.string().meta({ format: "date-time", description: "ISO 8601 timestamp" });
