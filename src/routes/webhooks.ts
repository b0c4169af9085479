import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { WebhookSecret } from "../api/webhooks";
import { rotateWebhookSecret, webhookSecret } from "../webhooks/secret";

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
