import { z } from "zod";
import { idParam, isoDate } from "./common";
import { AllowedHosts, CredentialName, CredentialValue, IsoDateTime, TeamHeader } from "./store";

/**
 * Schemas of the named secrets routes. Named secrets with runtime retrieval (seed 001, Optare's exact paths). API keys (app-level
 * secrets, scopes secrets:read/write/reveal) and user sessions (the user's own secrets).
 */
export const Label = z.string().regex(/^[a-z0-9][a-z0-9_.:-]{0,63}$/, "scope labels are lowercase letters, digits and _.:- (at most 64)");
export const UpsertSecretBody = z.strictObject({
  name: CredentialName,
  value: CredentialValue,
  scope: z.array(Label).max(20).optional().describe("Labels: the secret is revealed only to API keys carrying them all"),
  expiresAt: IsoDateTime.optional().describe("Past it the secret cannot be revealed or used (410 secret_expired)"),
  allowedHosts: AllowedHosts.optional(),
});
export const NameParams = z.object({ name: CredentialName });
export const AssignmentParams = NameParams.extend({ apiKeyId: idParam("key") });
export const Action = z.object({ success: z.literal(true), action: z.enum(["created", "updated", "deleted", "assigned", "unassigned"]) });
export const UpsertResponse = Action.extend({ id: z.string().describe("The secret's tok_ id (usable in tasks by keys it is assigned to)") });
export const SecretValue = z.object({ name: z.string(), value: z.string(), scope: z.array(z.string()), expiresAt: isoDate.nullable() }).meta({ id: "SecretValue" });
export const SecretSummary = z
  .object({ name: z.string(), id: z.string(), scope: z.array(z.string()), expiresAt: isoDate.nullable(), createdAt: isoDate, expired: z.literal(true).optional() })
  .meta({ id: "SecretSummary", description: "A named secret without its value" });
