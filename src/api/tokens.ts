import { z } from "zod";
import { HEADER_VALUE_RULE, isHeaderSafeValue } from "../vault/values";
import { idParam, isoDate, Pagination } from "./common";

/** Schemas of the /v1/tokens routes (seed 000). */

export const MAX_TOKEN_VALUE_BYTES = 64 * 1024;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const CreateTokenBody = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1, "name must not be empty")
    .max(100, "name must be at most 100 characters")
    .refine((v) => !CONTROL_CHARS.test(v), "name must not contain control characters"),
  value: z
    .string()
    .min(1, "value must not be empty")
    .max(MAX_TOKEN_VALUE_BYTES, `value must be at most ${MAX_TOKEN_VALUE_BYTES} bytes`)
    // Stored exactly: a string that is not valid Unicode would come back altered.
    .refine((v) => !LONE_SURROGATE.test(v), "value must be valid Unicode text")
    // Longer in characters is already reported by max(); this catches multi-byte text.
    .refine((v) => v.length > MAX_TOKEN_VALUE_BYTES || new TextEncoder().encode(v).byteLength <= MAX_TOKEN_VALUE_BYTES, {
      message: `value must be at most ${MAX_TOKEN_VALUE_BYTES} bytes`,
    })
    // Every token can be referenced from a header: refuse what a header cannot carry intact
    // (emptiness is min()'s to report).
    .refine((v) => v === "" || isHeaderSafeValue(v), HEADER_VALUE_RULE),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

export const TokenId = idParam("tok");
export const TokenParams = z.object({ id: TokenId });

export const Token = z
  .object({ id: z.string(), name: z.string(), createdAt: isoDate, revokedAt: isoDate.optional() })
  .meta({ id: "Token", description: "Token metadata. The secret value is never returned." });
export const TokenResponse = z.object({ token: Token });
export const TokenList = z.object({ tokens: z.array(Token), pagination: Pagination });
export type TokenResponse = z.infer<typeof TokenResponse>;
export type TokenList = z.infer<typeof TokenList>;
