import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate } from "../http/schemas";
import { rotateWebhookSecret, webhookSecret } from "../webhooks/secret";

export const WebhookSecret = z
  .object({
    secret: z.string().describe("whsec_...: the HMAC-SHA256 key for X-Signature"),
    createdAt: isoDate,
    signatureHeader: z.string(),
  })
  .meta({ id: "WebhookSecret" });

const FORMAT = "X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>";

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
    handler: async ({ ctx }) => json({ ...(await webhookSecret(ctx)), signatureHeader: FORMAT }),
  }),
  defineRoute({
    method: "POST",
    path: "/v1/webhooks/secret/rotate",
    tag: "Webhooks",
    summary: "Replace the webhook signing secret; later deliveries use the new one",
    auth: "apiKey",
    scope: "tasks:write",
    responses: { 200: { description: "The new signing secret", schema: WebhookSecret } },
    errors: ["not_configured"],
    handler: async ({ ctx }) => json({ ...(await rotateWebhookSecret(ctx)), signatureHeader: FORMAT }),
  }),
];
