import { z } from "zod";
import { isoDate } from "./common";

/** Schemas of the /v1/webhooks routes. */

/** How long a replaced signing secret keeps signing beside the new one. */
export const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 3600;

export const WebhookSecret = z
  .object({
    secret: z.string().describe("whsec_<base64>: the Standard Webhooks signing secret (the HMAC key is the base64 part, decoded)"),
    createdAt: isoDate,
    previousSecretExpiresAt: isoDate.nullable().describe("Until then the secret replaced by the last rotation signs too (a second v1 signature); null when it no longer does"),
    signatureHeader: z.string(),
    legacySignatureHeader: z.string().describe("Deprecated X-Signature format, sent for one more release unless LEGACY_WEBHOOK_SIGNATURE=false"),
  })
  .meta({ id: "WebhookSecret" });

export const RotateQuery = z.object({
  gracePeriod: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_ROTATION_GRACE_SECONDS)
    .default(DEFAULT_ROTATION_GRACE_SECONDS)
    .describe("Seconds the replaced secret keeps signing beside the new one (default 86400; 0 stops it at once)"),
});
