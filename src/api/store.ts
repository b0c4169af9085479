import { z } from "zod";
import { normalizeHostPattern } from "../vault/hosts";
import { CreateTokenBody } from "./tokens";

/** Schemas shared by the store's named views (secrets, credentials, leases). */
export const CredentialName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, "name must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit");

/** The same value rule as /v1/tokens: every credential can be referenced from a header. */
export const CredentialValue = CreateTokenBody.shape.value;

export const IsoDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/, "must be an ISO 8601 date-time with a time zone, e.g. 2025-12-31T23:59:59Z")
  .refine((v) => !Number.isNaN(Date.parse(v)), "must be a valid date-time")
  .meta({ format: "date-time" });

export const AllowedHosts = z
  .array(z.string().max(253).refine((h) => normalizeHostPattern(h) !== undefined, "each host must be a host name or a one-level wildcard like *.example.com"))
  .min(1)
  .max(50)
  .transform((hosts) => [...new Set(hosts.map((h) => normalizeHostPattern(h) ?? h))])
  .describe("Hosts the value may be sent to: exact names or one-level wildcards (*.example.com). Unset: unrestricted");

export const Ttl = z
  .union([z.string().max(20), z.number().int()])
  .describe('"90s", "15m", "4h", "7d" or a number of seconds');

export const TeamHeader = z.object({ "x-team-id": z.string().max(64).optional().describe("For a user in several teams: the team to act for") });
