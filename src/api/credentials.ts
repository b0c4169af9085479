import { z } from "zod";
import { idParam, isoDate } from "./common";
import { AllowedHosts, CredentialName, CredentialValue, Ttl } from "./store";

/** Schemas of the credentials, leases and rotation routes (seed 004). */
export const Metadata = z
  .record(z.string().max(100), z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]))
  .refine((m) => Object.keys(m).length <= 50, "metadata has at most 50 fields")
  .describe("Free-form; conventional fields: service, environment, prefix (the value must start with it), team, rotateEvery");
export const PolicyBody = z
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
export const PatchCredentialBody = z.strictObject({ metadata: Metadata.optional(), policy: PolicyBody.optional(), allowedHosts: AllowedHosts.nullable().optional() });
export const RotateBody = z.strictObject({ newValue: CredentialValue, gracePeriod: Ttl.optional().describe("Retire the previous version at the latest this long from now") });
export const NameParams = z.object({ name: CredentialName });
export const LeaseParams = z.object({ leaseId: idParam("lease") });
export const boolString = z.enum(["true", "false"]).transform((v) => v === "true");
export const ListQuery = z.object({ service: z.string().max(200).optional(), environment: z.string().max(200).optional(), type: z.string().max(50).optional(), rotationDue: boolString.optional() });
export const LeaseBody = z.strictObject({
  credentialName: CredentialName,
  ttl: Ttl.optional().describe("Defaults to the policy's defaultLeaseTTL; capped at maxLeaseTTL"),
  identity: z.strictObject({ type: z.string().min(1).max(50), name: z.string().min(1).max(200) }).describe("Who the lease is for (recorded beside the authenticated caller)"),
});
export const RenewBody = z.strictObject({ ttl: Ttl.optional() });
export const LeaseListQuery = z.object({ credentialName: CredentialName.optional(), identity: z.string().max(251).optional(), active: boolString.optional() });

export const Credential = z
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
export const CredentialResponse = z.object({ credential: Credential });
export const RotateResponse = z.object({ credential: Credential, previousVersion: z.object({ version: z.number().int(), state: z.string(), graceUntil: isoDate.nullable() }) });
export const Identity = z.object({ type: z.string(), name: z.string() });
export const Lease = z
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
export const IssuedLease = z
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
