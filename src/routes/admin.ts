import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { isoDate } from "../http/schemas";
import { ID_BODY } from "../ids";
import { PLAN_NAMES } from "../plans";
import { ALL_SCOPES } from "../auth/scopes";
import { changePlan, createApiKey, createTeam, getTeam, listApiKeys, revokeApiKey, teamView } from "../teams/teams";
import { reencryptBatch, vaultStatus } from "../vault/reencrypt";

const ADMIN = { actor: { type: "admin", id: "admin" } } as const;

export const CreateTeamBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  plan: z.enum(PLAN_NAMES).default("free"),
});
export const TeamParams = z.object({ teamId: z.string().regex(new RegExp(`^team_${ID_BODY}$`), "must be a team id (team_...)") });
export const ApiKeyParams = z.object({ keyId: z.string().regex(new RegExp(`^key_${ID_BODY}$`), "must be an API key id (key_...)") });
export const CreateApiKeyBody = z.strictObject({ name: z.string().trim().min(1).max(100) });
export const ChangePlanBody = z.strictObject({ plan: z.enum(PLAN_NAMES) });
export const ReencryptBody = z.strictObject({
  limit: z.number().int().min(1).max(500).default(100),
  after: z.string().max(64).default("").describe("The previous answer's nextCursor, to move past rows that failed"),
});

export const Team = z.object({ id: z.string(), name: z.string(), plan: z.enum(PLAN_NAMES), createdAt: isoDate }).meta({ id: "Team" });
export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("Non-secret display prefix of the key"),
    scopes: z.array(z.enum(ALL_SCOPES)),
    createdAt: isoDate,
    lastUsedAt: isoDate.nullable().optional(),
    revokedAt: isoDate.nullable().optional(),
  })
  .meta({ id: "ApiKey" });
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
    handler: async ({ env, body, requestId }) => json(await createTeam(env, { ...ADMIN, requestId }, body.name, body.plan), 201),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/teams/:teamId",
    tag: "Admin",
    summary: "A team",
    auth: "admin",
    params: TeamParams,
    responses: { 200: { description: "The team", schema: z.object({ team: Team }) } },
    handler: async ({ env, params }) => json({ team: teamView(await getTeam(env.DB, params.teamId)) }),
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
    handler: async ({ env, params, body, requestId }) => json({ team: await changePlan(env, { ...ADMIN, requestId }, params.teamId, body.plan) }),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/teams/:teamId/apikeys",
    tag: "Admin",
    summary: "A team's API keys (metadata only)",
    auth: "admin",
    params: TeamParams,
    responses: { 200: { description: "API keys", schema: z.object({ apiKeys: z.array(ApiKey) }) } },
    handler: async ({ env, params }) => {
      await getTeam(env.DB, params.teamId);
      return json({ apiKeys: await listApiKeys(env.DB, params.teamId) });
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
    handler: async ({ env, params, body, requestId }) => json(await createApiKey(env, { ...ADMIN, requestId }, params.teamId, body.name), 201),
  }),
  defineRoute({
    method: "POST",
    path: "/admin/apikeys/:keyId/revoke",
    tag: "Admin",
    summary: "Revoke an API key; it is refused from the next request on",
    auth: "admin",
    params: ApiKeyParams,
    responses: { 200: { description: "Revoked", schema: z.object({ apiKey: ApiKey }) } },
    handler: async ({ env, params, requestId }) => json({ apiKey: await revokeApiKey(env, { ...ADMIN, requestId }, params.keyId) }),
  }),
  defineRoute({
    method: "GET",
    path: "/admin/vault",
    tag: "Admin",
    summary: "Master key versions and how many active tokens each one seals",
    auth: "admin",
    responses: { 200: { description: "Vault status", schema: VaultStatus } },
    handler: async ({ env }) => json(await vaultStatus(env)),
  }),
  defineRoute({
    method: "POST",
    path: "/admin/vault/reencrypt",
    tag: "Admin",
    summary: "Re-encrypt up to `limit` tokens sealed under older master keys with the newest; repeat until remaining is 0",
    auth: "admin",
    body: ReencryptBody,
    responses: { 200: { description: "Progress", schema: ReencryptResult } },
    handler: async ({ env, body, requestId }) => json(await reencryptBatch(env, { ...ADMIN, requestId }, body.limit, body.after)),
  }),
];
