import { z } from "zod";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { idParam, isoDate } from "../http/schemas";
import { createCredential, deleteCredential, getCredential, credentialView, listCredentials, rotateCredential, updateCredential } from "../vault/credentials";
import { createLease, listLeases, renewLease, revokeLease } from "../vault/leases";
import { AllowedHosts, CredentialName, CredentialValue, Ttl } from "./store-schemas";

/** Credentials, leases and rotation (seed 004). */
const Metadata = z
  .record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 50, "metadata has at most 50 fields")
  .describe("Free-form; conventional fields: service, environment, prefix (the value must start with it), team, rotateEvery");
const PolicyBody = z
  .strictObject({
    defaultLeaseTTL: Ttl.optional(),
    maxLeaseTTL: Ttl.optional(),
    maxLeases: z.number().int().min(1).max(10_000).optional().describe("Active leases at most (exact under concurrency)"),
  })
  .describe("Lease policy; defaults: defaultLeaseTTL 1h, maxLeaseTTL 24h, maxLeases unlimited");
export const CreateCredentialBody = z.strictObject({
  name: CredentialName,
  type: z.literal("api-key"),
  value: CredentialValue,
  metadata: Metadata.optional(),
  policy: PolicyBody.optional(),
  allowedHosts: AllowedHosts.optional(),
});
const PatchCredentialBody = z.strictObject({ metadata: Metadata.optional(), policy: PolicyBody.optional(), allowedHosts: AllowedHosts.nullable().optional() });
const RotateBody = z.strictObject({ newValue: CredentialValue, gracePeriod: Ttl.optional().describe("Retire the previous version at the latest this long from now") });
const NameParams = z.object({ name: CredentialName });
const LeaseParams = z.object({ leaseId: idParam("lease") });
const boolString = z.enum(["true", "false"]).transform((v) => v === "true");
const ListQuery = z.object({ service: z.string().max(200).optional(), environment: z.string().max(200).optional(), type: z.string().max(50).optional(), rotationDue: boolString.optional() });
const LeaseBody = z.strictObject({
  credentialName: CredentialName,
  ttl: Ttl.optional().describe("Defaults to the policy's defaultLeaseTTL; capped at maxLeaseTTL"),
  identity: z.strictObject({ type: z.string().min(1).max(50), name: z.string().min(1).max(200) }).describe("Who the lease is for (recorded beside the authenticated caller)"),
});
const RenewBody = z.strictObject({ ttl: Ttl.optional() });
const LeaseListQuery = z.object({ credentialName: CredentialName.optional(), identity: z.string().max(251).optional(), active: boolString.optional() });

const Credential = z
  .object({
    id: z.string().describe("The tok_ id: usable in task headers like any token"),
    name: z.string(),
    type: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    policy: z.record(z.string(), z.unknown()),
    effectivePolicy: z.object({ defaultLeaseTTLSeconds: z.number(), maxLeaseTTLSeconds: z.number(), maxLeases: z.number().nullable() }),
    allowedHosts: z.array(z.string()).nullable(),
    currentVersion: z.number().int(),
    state: z.enum(["active", "deleted"]),
    rotationDue: z.boolean(),
    createdAt: isoDate,
    currentVersionCreatedAt: isoDate,
    deletedAt: isoDate.optional(),
  })
  .meta({ id: "Credential", description: "A credential's metadata; the value is never returned (see leases)" });
const CredentialResponse = z.object({ credential: Credential });
const Identity = z.object({ type: z.string(), name: z.string() });
const Lease = z
  .object({
    id: z.string(),
    credentialName: z.string(),
    version: z.number().int(),
    state: z.enum(["active", "expired", "revoked"]),
    expiresAt: isoDate,
    maxExpiresAt: isoDate,
    identity: Identity,
    caller: z.object({ type: z.string(), id: z.string() }),
    createdAt: isoDate,
    revokedAt: isoDate.optional(),
  })
  .meta({ id: "Lease", description: "A lease without its value" });
const IssuedLease = z
  .object({
    id: z.string(),
    credentialName: z.string(),
    version: z.number().int(),
    value: z.string().describe("The credential's value: returned only here"),
    expiresAt: isoDate,
    maxExpiresAt: isoDate,
    identity: Identity,
    createdAt: isoDate,
    ttlSeconds: z.number().int(),
    ttlCapped: z.literal(true).optional().describe("Present when the requested ttl was cut to maxLeaseTTL"),
    maxLeaseTTLSeconds: z.number().int().optional(),
  })
  .meta({ id: "IssuedLease" });

export const credentialRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/credentials",
    tag: "Credentials",
    summary: "Store a credential (seed 004); returns its metadata and tok_ id, never the value",
    auth: "apiKey",
    scope: "secrets:write",
    body: CreateCredentialBody,
    responses: { 201: { description: "Created", schema: CredentialResponse } },
    errors: ["name_taken", "value_prefix_mismatch", "not_configured"],
    handler: async ({ ctx, body }) => json({ credential: await createCredential(ctx, body) }, 201),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/credentials",
    tag: "Credentials",
    summary: "List credentials, filtered by metadata.service, metadata.environment, type, rotationDue (from metadata.rotateEvery)",
    auth: "apiKey",
    scope: "secrets:read",
    query: ListQuery,
    responses: { 200: { description: "Credentials", schema: z.object({ credentials: z.array(Credential) }) } },
    handler: async ({ ctx, query }) => json(await listCredentials(ctx, query)),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/credentials/:name",
    tag: "Credentials",
    summary: "A credential's metadata",
    auth: "apiKey",
    scope: "secrets:read",
    params: NameParams,
    responses: { 200: { description: "The credential", schema: CredentialResponse } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json({ credential: credentialView(await getCredential(ctx, params.name)) }),
  }),
  defineRoute({
    method: "PATCH",
    path: "/v1/credentials/:name",
    tag: "Credentials",
    summary: "Change metadata, policy or allowedHosts (the value changes only by rotation)",
    auth: "apiKey",
    scope: "secrets:write",
    params: NameParams,
    body: PatchCredentialBody,
    responses: { 200: { description: "Updated", schema: CredentialResponse } },
    errors: ["not_found"],
    handler: async ({ ctx, params, body }) => json({ credential: await updateCredential(ctx, params.name, body) }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/credentials/:name",
    tag: "Credentials",
    summary: "Delete for good: every version is erased and every active lease revoked",
    auth: "apiKey",
    scope: "secrets:write",
    params: NameParams,
    responses: { 200: { description: "Deleted", schema: CredentialResponse } },
    errors: ["not_found"],
    handler: async ({ ctx, params }) => json({ credential: await deleteCredential(ctx, params.name) }),
  }),
  defineRoute({
    method: "POST",
    path: "/v1/credentials/:name/rotate",
    tag: "Credentials",
    summary: "Rotate: a new current version; the previous one serves its leases until they end (or gracePeriod does), then is retired",
    auth: "apiKey",
    scope: "secrets:write",
    params: NameParams,
    body: RotateBody,
    responses: {
      200: {
        description: "Rotated",
        schema: z.object({ credential: Credential, previousVersion: z.object({ version: z.number().int(), state: z.string(), graceUntil: isoDate.nullable() }) }),
      },
    },
    errors: ["not_found", "value_prefix_mismatch", "version_conflict", "not_configured"],
    handler: async ({ ctx, params, body }) => json(await rotateCredential(ctx, params.name, body)),
  }),
  defineRoute({
    method: "POST",
    path: "/v1/leases",
    tag: "Leases",
    summary: "Lease a credential: the value, for ttl (default defaultLeaseTTL, capped at maxLeaseTTL), within maxLeases",
    auth: "apiKey",
    scope: "secrets:reveal",
    body: LeaseBody,
    responses: { 201: { description: "Issued", schema: z.object({ lease: IssuedLease }) } },
    errors: ["not_found", "secret_expired", "lease_limit_reached", "not_configured"],
    handler: async ({ ctx, body }) => json(await createLease(ctx, body), 201),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/leases",
    tag: "Leases",
    summary: "The team's leases (never values), filtered by credentialName, identity (name or type:name), active",
    auth: "apiKey",
    scope: "secrets:read",
    query: LeaseListQuery,
    responses: { 200: { description: "Leases", schema: z.object({ leases: z.array(Lease) }) } },
    handler: async ({ ctx, query }) => json(await listLeases(ctx, query)),
  }),
  defineRoute({
    method: "POST",
    path: "/v1/leases/:leaseId/renew",
    tag: "Leases",
    summary: "Extend an active lease (never past maxExpiresAt); expired or revoked: 410",
    auth: "apiKey",
    scope: "secrets:reveal",
    params: LeaseParams,
    body: RenewBody,
    responses: { 200: { description: "Renewed", schema: z.object({ lease: Lease }) } },
    errors: ["not_found", "access_denied", "lease_expired"],
    handler: async ({ ctx, params, body }) => json(await renewLease(ctx, params.leaseId, body.ttl)),
  }),
  defineRoute({
    method: "DELETE",
    path: "/v1/leases/:leaseId",
    tag: "Leases",
    summary: "End a lease now (its slot is free at once)",
    auth: "apiKey",
    scope: "secrets:reveal",
    params: LeaseParams,
    responses: { 200: { description: "Revoked", schema: z.object({ lease: Lease }) } },
    errors: ["not_found", "access_denied"],
    handler: async ({ ctx, params }) => json(await revokeLease(ctx, params.leaseId)),
  }),
];
