import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate } from "../http/schemas";
import { DEFAULT_ROTATION_GRACE_SECONDS, MAX_ROTATION_GRACE_SECONDS, rotateWebhookSecret, webhookSecret } from "../webhooks/secret";

export const WebhookSecret = z
  .object({
    secret: z.string().describe("whsec_<base64>: the Standard Webhooks signing secret (the HMAC key is the base64 part, decoded)"),
    createdAt: isoDate,
    previousSecretExpiresAt: isoDate.nullable().describe("Until then the secret replaced by the last rotation signs too (a second v1 signature); null when it no longer does"),
    signatureHeader: z.string(),
    legacySignatureHeader: z.string().describe("Deprecated X-Signature format, sent for one more release unless LEGACY_WEBHOOK_SIGNATURE=false"),
  })
  .meta({ id: "WebhookSecret" });

const FORMAT = 'Standard Webhooks: webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_, "<webhook-id>.<webhook-timestamp>.<raw body>")>, space-separated during a rotation';
const LEGACY_FORMAT = "X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>";
const formats = { signatureHeader: FORMAT, legacySignatureHeader: LEGACY_FORMAT };

export const RotateQuery = z.object({
  gracePeriod: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_ROTATION_GRACE_SECONDS)
    .default(DEFAULT_ROTATION_GRACE_SECONDS)
    .describe("Seconds the replaced secret keeps signing beside the new one (default 86400; 0 stops it at once)"),
});

export const webhookRoutes = [
  defineRoute({
    method: "GET",
    path: "/v1/webhooks/secret",
    tag: "Webhooks",
    summary: "The team's webhook signing secret (created on first use)",
    auth: "apiKey",
    scope: "tasks:write",
    responses: { 200: { description: "The signing secret", schema: WebhookSecret } },
    errors: ["not_configured"],
    handler: async ({ ctx }) => json({ ...(await webhookSecret(ctx)), ...formats }),
  }),
  defineRoute({
    method: "POST",
    path: "/v1/webhooks/secret/rotate",
    tag: "Webhooks",
    summary: "Replace the webhook signing secret; the replaced one keeps signing for `gracePeriod` seconds (default 24 h)",
    auth: "apiKey",
    scope: "tasks:write",
    query: RotateQuery,
    responses: { 200: { description: "The new signing secret", schema: WebhookSecret } },
    errors: ["not_configured"],
    handler: async ({ ctx, query }) => json({ ...(await rotateWebhookSecret(ctx, query.gracePeriod)), ...formats }),
  }),
];
