import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { RotateQuery, WebhookSecret } from "../api/webhooks";
import { rotateWebhookSecret, webhookSecret } from "../webhooks/secret";

const FORMAT = 'Standard Webhooks: webhook-signature: v1,<base64 HMAC-SHA256(base64-decoded secret after whsec_, "<webhook-id>.<webhook-timestamp>.<raw body>")>, space-separated during a rotation';
const LEGACY_FORMAT = "X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>";
const formats = { signatureHeader: FORMAT, legacySignatureHeader: LEGACY_FORMAT };

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
