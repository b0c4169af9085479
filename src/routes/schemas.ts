import { z } from "zod";
import { ALL_SCOPES } from "../auth/scopes";
import { idParam, isoDate } from "../http/schemas";
import { PLAN_NAMES } from "../plans";

/** Schemas shared by several route files (the operator API and the accounts API). */
export const Team = z.object({ id: z.string(), name: z.string(), plan: z.enum(PLAN_NAMES), createdAt: isoDate }).meta({ id: "Team" });

export const ApiKey = z
  .object({
    id: z.string(),
    name: z.string(),
    prefix: z.string().describe("Non-secret display prefix of the key"),
    scopes: z.array(z.enum(ALL_SCOPES)),
    labels: z.array(z.string()).describe("Scope labels: named secrets with labels are revealed only to keys carrying them all"),
    createdAt: isoDate,
    lastUsedAt: isoDate.nullable().optional(),
    revokedAt: isoDate.nullable().optional(),
  })
  .meta({ id: "ApiKey" });

export const TeamParams = z.object({ teamId: idParam("team") });
export const ApiKeyParams = z.object({ keyId: idParam("key") });
