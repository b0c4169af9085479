import { z } from "zod";
import { ROLES } from "../teams/roles";
import { isoDate, PageQuery, Pagination } from "./common";
import { CredentialValue, Ttl } from "./store";

/**
 * Schemas of the vault routes (issue 11, seed 003): vaults, credentials by KEY, services, agent
 * tokens and the proxy's request log.
 */
const SLUG = /^(?=.{3,64}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TEAM_ID = /^team_[0-9a-z]{26}$/;
export const Slug = z.string().regex(SLUG, "slug must be 3-64 lowercase letters and digits in runs joined by single hyphens");
export const VaultParams = z.object({
  vault: z.string().max(64).refine((v) => SLUG.test(v) || TEAM_ID.test(v), "vault must be a vault slug or a team id (team_...)").describe("The vault's slug or team id"),
});
/** A KEY in a path: the format is checked by the domain (400 invalid_credential_key, one clear code). */
export const KeyParams = VaultParams.extend({ key: z.string().min(1).max(200) });
const ServiceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "name must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
export const ServiceParams = VaultParams.extend({ name: ServiceName });

export const UnmatchedPolicy = z.enum(["deny", "passthrough"]);
export const Vault = z
  .object({
    id: z.string(),
    slug: z.string(),
    name: z.string(),
    plan: z.string(),
    unmatchedPolicy: UnmatchedPolicy.describe("What the proxy does with a request no service matches (default deny)"),
    createdAt: isoDate,
    role: z.enum(ROLES).optional().describe("The caller's role (user sessions)"),
  })
  .meta({ id: "Vault" });
export const VaultList = z.object({ vaults: z.array(Vault) });
export const VaultResponse = z.object({ vault: Vault });
export const PatchVaultBody = z.strictObject({ slug: Slug.optional(), unmatchedPolicy: UnmatchedPolicy.optional() });

// --- credentials by KEY ---
export const SetCredentialsBody = z.strictObject({
  credentials: z
    .record(z.string().max(200), CredentialValue)
    .refine((c) => Object.keys(c).length >= 1 && Object.keys(c).length <= 100, "credentials holds 1 to 100 KEYs")
    .describe('KEY -> value, e.g. {"STRIPE_KEY": "sk_test_..."}; an existing KEY gets a new version'),
});
const credentialFields = {
  key: z.string().describe("UPPER_SNAKE_CASE"),
  id: z.string().describe("The tok_ id: usable in task headers like any token"),
  type: z.string(),
  createdAt: isoDate,
  updatedAt: isoDate,
  expired: z.literal(true).optional(),
};
export const VaultCredentialSummary = z.object(credentialFields).meta({ id: "VaultCredentialSummary", description: "A vault credential without its value" });
export const VaultCredential = z
  .object({ ...credentialFields, value: z.string().optional().describe("Only with ?reveal=true, or on GET of one KEY") })
  .meta({ id: "VaultCredential" });
export const VaultCredentialSummaryList = z.object({ credentials: z.array(VaultCredentialSummary) });
export const VaultCredentialSummaryResponse = z.object({ credential: VaultCredentialSummary });
export const VaultCredentialList = z.object({ credentials: z.array(VaultCredential) });
export const VaultCredentialResponse = z.object({ credential: VaultCredential });
export const RevealQuery = z.object({ reveal: z.enum(["true", "false"]).optional().transform((v) => v === "true") });

// --- services ---
const KeyRef = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "must name a credential KEY (UPPER_SNAKE_CASE)").max(100);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const ServiceAuth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("bearer"), token: KeyRef }),
  z.strictObject({ type: z.literal("basic"), username: KeyRef, password: KeyRef }),
  z.strictObject({
    type: z.literal("api-key"),
    key: KeyRef,
    header: z.string().regex(HEADER_NAME, "must be a valid header name").max(256).default("Authorization"),
    prefix: z.string().max(100).regex(/^[\x20-\x7e]*$/, "must be printable ASCII").optional(),
  }),
  z.strictObject({
    type: z.literal("custom"),
    headers: z
      .record(z.string().regex(HEADER_NAME, "must be a valid header name").max(256), z.string().max(4096).regex(/^[\x20-\x7e]*$/, "must be printable ASCII"))
      .refine((h) => Object.keys(h).length >= 1 && Object.keys(h).length <= 20, "headers holds 1 to 20 headers"),
  }),
  z.strictObject({ type: z.literal("passthrough") }),
]);
export const ServiceBody = z
  .strictObject({
    name: ServiceName,
    host: z.string().min(1).max(300).describe("api.stripe.com, *.github.com (one level), slack.com/api/*, api.example.com:8443"),
    enabled: z.boolean().default(true),
    auth: ServiceAuth,
  })
  .meta({ id: "ServiceInput" });
export const ReplaceServicesBody = z.strictObject({ services: z.array(ServiceBody).max(200) });
export const Service = z
  .object({ name: z.string(), host: z.string(), enabled: z.boolean(), auth: z.record(z.string(), z.unknown()), createdAt: isoDate, updatedAt: isoDate })
  .meta({ id: "Service" });
export const ServiceList = z.object({ services: z.array(Service) });
export const ServiceResponse = z.object({ service: Service });

// --- agent tokens ---
export const AgentTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  ttl: Ttl.describe('Lifetime: seconds, or "5m", "1h", "7d"; 5 minutes to 7 days'),
});
export const AgentToken = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: z.literal("agent"),
    scopes: z.array(z.string()),
    createdAt: isoDate,
    expiresAt: isoDate,
  })
  .meta({ id: "AgentToken" });
export const CreatedAgentToken = z.object({ apiKey: AgentToken, key: z.string().describe("The agent's key, shown only this once"), expiresAt: isoDate });

// --- CLI keys: a signed-in person's short-lived key for the API-key routes ---
export const CliKeyBody = z.strictObject({
  ttl: Ttl.optional().describe('Lifetime: seconds, or "5m", "1h"; 5 minutes (the default) to 1 hour'),
});
export const CliKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string(),
    role: z.literal("standard"),
    scopes: z.array(z.string()).describe("The caller's role's: members read (tokens, tasks, audit, secrets, vault); admins and owners get the default scopes; never secrets:reveal"),
    createdAt: isoDate,
    expiresAt: isoDate,
  })
  .meta({ id: "CliKey" });
export const CreatedCliKey = z.object({ apiKey: CliKey, key: z.string().describe("The key, shown only this once"), expiresAt: isoDate });

// --- the proxy's request log ---
export const LogQuery = PageQuery.extend({
  service: z.string().max(64).optional(),
  status: z.coerce.number().int().min(100).max(599).optional(),
});
export const ProxyLogEntry = z
  .object({
    id: z.string(),
    method: z.string(),
    host: z.string(),
    path: z.string().describe("Without the query string"),
    service: z.string().nullable(),
    credentialKeys: z.array(z.string()),
    status: z.number().int(),
    errorCode: z.string().nullable().describe("The vault's refusal code when the vault answered"),
    durationMs: z.number().int(),
    apiKeyId: z.string().nullable(),
    createdAt: isoDate,
  })
  .meta({ id: "ProxyLogEntry" });
export const ProxyLogList = z.object({ entries: z.array(ProxyLogEntry), pagination: Pagination });
