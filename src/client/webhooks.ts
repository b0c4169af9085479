import type { z } from "zod";
import type { WebhookSecret as WebhookSecretSchema } from "../api/webhooks";
import type { Transport } from "./http";

export type WebhookSecret = z.output<typeof WebhookSecretSchema>;

/** /v1/webhooks/secret: the key that signs task-completion webhooks. */
export class Webhooks {
  constructor(private readonly http: Transport) {}

  /** The current signing secret (created on first use). */
  async secret(): Promise<WebhookSecret> {
    return (await this.http.request<WebhookSecret>("GET", "/v1/webhooks/secret", { auth: "apiKey" })).data;
  }

  /** A new signing secret; later deliveries are signed with it. */
  async rotate(): Promise<WebhookSecret> {
    return (await this.http.request<WebhookSecret>("POST", "/v1/webhooks/secret/rotate", { auth: "apiKey" })).data;
  }
}
