import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { idParam, isoDate } from "../http/schemas";
import { assignSecret, deleteSecret, listSecrets, revealSecret, upsertSecret } from "../vault/secrets";
import { AllowedHosts, CredentialName, CredentialValue, IsoDateTime, TeamHeader } from "./store-schemas";

/**
 * Named secrets with runtime retrieval (seed 001, Optare's exact paths). API keys (app-level
 * secrets, scopes secrets:read/write/reveal) and user sessions (the user's own secrets).
 */
const Label = z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, "scope labels are lowercase letters, digits and _.:- (at most 64)");
export const UpsertSecretBody = z.strictObject({
  name: CredentialName,
  value: CredentialValue,
  scope: z.array(Label).max(20).optional().describe("Labels: the secret is revealed only to API keys carrying them all"),
  expiresAt: IsoDateTime.optional().describe("Past it the secret cannot be revealed or used (410 secret_expired)"),
  allowedHosts: AllowedHosts.optional(),
});
const NameParams = z.object({ name: CredentialName });
const AssignmentParams = NameParams.extend({ apiKeyId: idParam("key") });
const Action = z.object({ success: z.literal(true), action: z.enum(["created", "updated", "deleted", "assigned", "unassigned"]) });
const UpsertResponse = Action.extend({ id: z.string().describe("The secret's tok_ id (usable in tasks by keys it is assigned to)") });
const SecretValue = z.object({ name: z.string(), value: z.string(), scope: z.array(z.string()), expiresAt: isoDate.nullable() }).meta({ id: "SecretValue" });
const SecretSummary = z
  .object({ name: z.string(), id: z.string(), scope: z.array(z.string()), expiresAt: isoDate.nullable(), createdAt: isoDate, expired: z.literal(true).optional() })
  .meta({ id: "SecretSummary", description: "A named secret without its value" });

export const secretRoutes = [
  defineRoute({
    method: "POST",
    path: "/vault/secrets",
    tag: "Named secrets",
    summary: "Create or update a named secret (upsert by name); app-level with an API key, user-level with a session",
    auth: "apiKeyOrUser",
    scope: "secrets:write",
    headers: TeamHeader,
    body: UpsertSecretBody,
    responses: { 201: { description: "Created", schema: UpsertResponse }, 200: { description: "Updated (a new version)", schema: UpsertResponse } },
    errors: ["name_taken"],
    handler: async ({ ctx, body }) => {
      const result = await upsertSecret(ctx, body);
      return json({ success: true, action: result.action, id: result.id }, result.action === "created" ? 201 : 200);
    },
  }),
  defineRoute({
    method: "GET",
    path: "/vault/secrets",
    tag: "Named secrets",
    summary: "List the caller's named secrets (never a value)",
    auth: "apiKeyOrUser",
    scope: "secrets:read",
    headers: TeamHeader,
    responses: { 200: { description: "Secrets", schema: z.object({ secrets: z.array(SecretSummary) }) } },
    handler: async ({ ctx }) => json(await listSecrets(ctx)),
  }),
  defineRoute({
    method: "GET",
    path: "/vault/secrets/:name",
    tag: "Named secrets",
    summary: "Retrieve a secret's value at runtime (API keys need secrets:reveal and the secret's scope labels)",
    auth: "apiKeyOrUser",
    scope: "secrets:reveal",
    headers: TeamHeader,
    params: NameParams,
    responses: { 200: { description: "The value", schema: SecretValue } },
    errors: ["not_found", "secret_expired"],
    handler: async ({ ctx, params }) => json(await revealSecret(ctx, params.name)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/vault/secrets/:name",
    tag: "Named secrets",
    summary: "Delete a secret for good (every version's ciphertext is erased)",
    auth: "apiKeyOrUser",
    scope: "secrets:write",
    headers: TeamHeader,
    params: NameParams,
    responses: { 200: { description: "Deleted", schema: Action } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json(await deleteSecret(ctx, params.name)),
  }),
  defineRoute({
    method: "POST",
    path: "/vault/secrets/:name/assignments",
    tag: "Named secrets",
    summary: "Assign an app-level secret this key holds to another API key of the team",
    auth: "apiKey",
    scope: "secrets:write",
    params: NameParams,
    body: z.strictObject({ apiKeyId: idParam("key") }),
    responses: { 201: { description: "Assigned", schema: Action.extend({ apiKeyId: z.string() }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params, body }) => json(await assignSecret(ctx, params.name, body.apiKeyId, true), 201),
  }),
  defineRoute({
    method: "DELETE",
    path: "/vault/secrets/:name/assignments/:apiKeyId",
    tag: "Named secrets",
    summary: "Withdraw an app-level secret from an API key",
    auth: "apiKey",
    scope: "secrets:write",
    params: AssignmentParams,
    responses: { 200: { description: "Unassigned", schema: Action.extend({ apiKeyId: z.string() }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json(await assignSecret(ctx, params.name, params.apiKeyId, false)),
  }),
];
