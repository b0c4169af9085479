import type { z } from "zod";
import type { Action as ActionSchema, SecretSummary as SecretSummarySchema, SecretValue as SecretValueSchema, UpsertResponse, UpsertSecretBody } from "../api/secrets";
import { seg, type Transport } from "./http";

export type UpsertSecretInput = z.input<typeof UpsertSecretBody>;
/** `{ success: true, action: "created" | "updated", id }`: the secret's tok_ id, usable in tasks. */
export type SecretUpsert = z.output<typeof UpsertResponse>;
/** A revealed secret: `{ name, value, scope, expiresAt }`. */
export type SecretValue = z.output<typeof SecretValueSchema>;
export type SecretSummary = z.output<typeof SecretSummarySchema>;
export type SecretAction = z.output<typeof ActionSchema>;
export type SecretAssignment = SecretAction & { apiKeyId: string };

/**
 * /vault/secrets (seed 001): named secrets read back at runtime. With an API key they are the
 * app's (the key's, and the keys it assigns them to); with only a `sessionToken` they are the
 * user's own (`teamId` names the team for a user in several).
 */
export class Secrets {
  constructor(private readonly http: Transport) {}

  /** Create or update by name (an update is a new version). */
  async set(input: UpsertSecretInput): Promise<SecretUpsert> {
    return (await this.http.request<SecretUpsert>("POST", "/vault/secrets", { auth: "apiKeyOrSession", body: input })).data;
  }

  /** The same as `set`: the route is an upsert. */
  upsert(input: UpsertSecretInput): Promise<SecretUpsert> {
    return this.set(input);
  }

  /** Reveal the value (API keys need the `secrets:reveal` scope and the secret's scope labels). */
  async get(name: string): Promise<SecretValue> {
    return (await this.http.request<SecretValue>("GET", `/vault/secrets/${seg(name)}`, { auth: "apiKeyOrSession" })).data;
  }

  /** The caller's secrets, never a value. */
  async list(): Promise<SecretSummary[]> {
    return (await this.http.request<{ secrets: SecretSummary[] }>("GET", "/vault/secrets", { auth: "apiKeyOrSession" })).data.secrets;
  }

  /** Delete for good (every version's ciphertext is erased). */
  async delete(name: string): Promise<SecretAction> {
    return (await this.http.request<SecretAction>("DELETE", `/vault/secrets/${seg(name)}`, { auth: "apiKeyOrSession" })).data;
  }

  /** Share an app-level secret this key holds with another API key of the team (API key only). */
  async assign(name: string, apiKeyId: string): Promise<SecretAssignment> {
    return (await this.http.request<SecretAssignment>("POST", `/vault/secrets/${seg(name)}/assignments`, { auth: "apiKey", body: { apiKeyId } })).data;
  }

  async unassign(name: string, apiKeyId: string): Promise<SecretAssignment> {
    return (await this.http.request<SecretAssignment>("DELETE", `/vault/secrets/${seg(name)}/assignments/${seg(apiKeyId)}`, { auth: "apiKey" })).data;
  }
}
