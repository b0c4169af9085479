import { CreateKeyBody } from "../api/accounts";
import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { PLAN_NAMES } from "../plans";
import { changePlan, createApiKey, createTeam, getTeam, listApiKeys, revokeApiKey, scopesForRole, teamView } from "../teams/teams";
import { reencryptBatch, vaultStatus } from "../vault/reencrypt";
import { ApiKey, ApiKeyParams, Team, TeamParams } from "../api/accounts";

export const CreateTeamBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  plan: z.enum(PLAN_NAMES).default("free"),
});
export const CreateApiKeyBody = z.strictObject({ name: z.string().trim().min(1).max(100), scopes: CreateKeyBody.shape.scopes, labels: CreateKeyBody.shape.labels, role: CreateKeyBody.shape.role });
export const ChangePlanBody = z.strictObject({ plan: z.enum(PLAN_NAMES) });
export const ReencryptBody = z.strictObject({
  limit: z.number().int().min(1).max(500).default(100),
  after: z.string().max(64).default("").describe("The previous answer's nextCursor, to move past rows that failed"),
});

export const CreatedTeam = z.object({ team: Team, apiKey: ApiKey, key: z.string().describe("The full API key, shown only this once") });
export const CreatedApiKey = z.object({ apiKey: ApiKey, key: z.string().describe("The full API key, shown only this once") });
export type CreatedTeam = z.infer<typeof CreatedTeam>;
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
export const ReencryptResult = z.object({
  activeKeyVersion: z.number(),
  reencrypted: z.number(),
  failed: z.array(z.string()).describe("Rows that could not be opened (corrupt, or sealed under a missing key version)"),
  remaining: z.number(),
  nextCursor: z.string().nullable(),
});
export const VaultStatus = z.object({
  activeKeyVersion: z.number(),
  configuredKeyVersions: z.array(z.number()),
  activeTokensByKeyVersion: z.record(z.string(), z.number()),
  pendingReencryption: z.number(),
  missingKeyVersions: z.array(z.number()),
});

export const adminRoutes = [
  defineRoute({
    method: "POST",
    path: "/admin/teams",
    tag: "Admin",
    summary: "Create a team and its first API key (the full key is returned only here)",
    auth: "admin",
    body: CreateTeamBody,
    responses: { 201: { description: "Team created", schema: CreatedTeam } },
    handler: async ({ ctx, body }) => json(await createTeam(ctx, body.name, body.plan), 201),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/teams/:teamId",
    tag: "Admin",
    summary: "A team",
    auth: "admin",
    params: TeamParams,
    responses: { 200: { description: "The team", schema: z.object({ team: Team }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json({ team: teamView(await getTeam(ctx, params.teamId)) }),
  }),
  defineRoute({
    method: "PATCH",
    path: "/admin/teams/:teamId",
    tag: "Admin",
    summary: "Change a team's plan; limits apply from the next request",
    auth: "admin",
    params: TeamParams,
    body: ChangePlanBody,
    responses: { 200: { description: "The team", schema: z.object({ team: Team }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params, body }) => json({ team: await changePlan(ctx, params.teamId, body.plan) }),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/teams/:teamId/apikeys",
    tag: "Admin",
    summary: "A team's API keys (metadata only)",
    auth: "admin",
    params: TeamParams,
    responses: { 200: { description: "API keys", schema: z.object({ apiKeys: z.array(ApiKey) }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => {
      await getTeam(ctx, params.teamId);
      return json({ apiKeys: await listApiKeys(ctx, params.teamId) });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/admin/teams/:teamId/apikeys",
    tag: "Admin",
    summary: "Create another API key for a team, within its plan's key limit",
    auth: "admin",
    params: TeamParams,
    body: CreateApiKeyBody,
    responses: { 201: { description: "Key created", schema: CreatedApiKey } },
    errors: ["not_found", "plan_limit_reached"],
    handler: async ({ ctx, params, body }) => {
      const role = body.role ?? "standard";
      return json(await createApiKey(ctx, params.teamId, body.name, scopesForRole(role, body.scopes), body.labels ?? [], { role }), 201);
    },
  }),
  defineRoute({
    method: "POST",
    path: "/admin/apikeys/:keyId/revoke",
    tag: "Admin",
    summary: "Revoke an API key; it is refused from the next request on",
    auth: "admin",
    params: ApiKeyParams,
    responses: { 200: { description: "Revoked", schema: z.object({ apiKey: ApiKey }) } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json({ apiKey: await revokeApiKey(ctx, params.keyId) }),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/vault",
    tag: "Admin",
    summary: "Master key versions and how many active tokens each one seals",
    auth: "admin",
    responses: { 200: { description: "Vault status", schema: VaultStatus } },
    handler: async ({ ctx }) => json(await vaultStatus(ctx)),
  }),
  defineRoute({
    method: "POST",
    path: "/admin/vault/reencrypt",
    tag: "Admin",
    summary: "Re-encrypt up to `limit` tokens sealed under older master keys with the newest; repeat until remaining is 0",
    auth: "admin",
    body: ReencryptBody,
    responses: { 200: { description: "Progress", schema: ReencryptResult } },
    handler: async ({ ctx, body }) => json(await reencryptBatch(ctx, body.limit, body.after)),
  }),
];
