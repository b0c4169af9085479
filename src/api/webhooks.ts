import { z } from "zod";
import { isoDate } from "./common";

/** Schemas of the /v1/webhooks routes. */

export const WebhookSecret = z
  .object({
    secret: z.string().describe("whsec_...: the HMAC-SHA256 key for X-Signature"),
    createdAt: isoDate,
    signatureHeader: z.string(),
  })
  .meta({ id: "WebhookSecret" });
