import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { assignSecret, deleteSecret, listSecrets, revealSecret, upsertSecret } from "../vault/secrets";
import { TeamHeader } from "../api/store";
import { idParam } from "../api/common";
import { UpsertSecretBody, NameParams, AssignmentParams, Action, UpsertResponse, SecretValue, SecretSummary } from "../api/secrets";

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
    reveals: true,
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
