import { z } from "zod";
import { idParam, isoDate } from "./common";
import { CredentialValue } from "./store";
import { ServiceBody, VaultParams } from "./vaults";

/**
 * Schemas of the proposal routes (issue 12 section 2, seed 003): an agent proposes services and
 * credential slots, a member approves in a browser (or rejects), the change applies atomically.
 */
export const MAX_PROPOSED_SERVICES = 10;
export const MAX_PROPOSED_SLOTS = 10;
export const PROPOSAL_STATUSES = ["pending", "approved", "rejected", "expired"] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/** A link shown to the reviewer: http or https only (never javascript: or data:). */
const HttpUrl = z
  .string()
  .max(2000)
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === "https:" || u.protocol === "http:";
    } catch {
      return false;
    }
  }, "must be an http or https URL");

/** The KEY format is checked by the domain (400 invalid_credential_key, one clear code). */
const SlotKey = z.string().min(1).max(200);

export const OAuthSlotConfig = z.strictObject({
  authorization_url: HttpUrl.optional().describe("Present: the approval page offers Connect; absent: token paste fields"),
  token_url: HttpUrl,
  scopes: z.string().max(1000).optional(),
});

export const SetSlot = z.strictObject({
  action: z.literal("set"),
  key: SlotKey,
  description: z.string().max(500).optional(),
  obtain: HttpUrl.optional().describe("Where the reviewer gets the value"),
  obtain_instructions: z.string().max(2000).optional(),
  value: CredentialValue.optional().describe("A value the agent generated: sealed at once; reviewers see only its length"),
  type: z.enum(["static", "oauth"]).optional(),
  oauth: OAuthSlotConfig.optional(),
});
export const DeleteSlot = z.strictObject({ action: z.literal("delete"), key: SlotKey });
export const Slot = z.discriminatedUnion("action", [SetSlot, DeleteSlot]);

export const CreateProposalBody = z
  .strictObject({
    services: z.array(ServiceBody).max(MAX_PROPOSED_SERVICES).default([]),
    credentials: z.array(Slot).max(MAX_PROPOSED_SLOTS).default([]),
    message: z.string().max(2000).default(""),
  })
  .refine((b) => b.services.length + b.credentials.length > 0, "a proposal names at least one service or credential");

export const ProposalParams = z.object({ id: idParam("prop") });
export const VaultProposalParams = VaultParams.extend({ id: idParam("prop") });
export const ProposalListQuery = z.object({ status: z.enum(PROPOSAL_STATUSES).optional() });

export const ApproveBody = z.strictObject({
  credentials: z.record(z.string().max(200), CredentialValue).default({}).describe("KEY -> value for the slots without a value"),
});
export const RejectBody = z.strictObject({ reason: z.string().max(1000).default("") });

export const ProposalCreated = z.object({
  proposal: z.object({ id: z.string(), status: z.literal("pending"), approvalUrl: z.string(), expiresAt: isoDate }),
});

export const ProposalSlotView = z
  .object({
    action: z.enum(["set", "delete"]),
    key: z.string(),
    type: z.enum(["static", "oauth"]).optional(),
    description: z.string().optional(),
    obtain: z.string().optional(),
    obtain_instructions: z.string().optional(),
    oauth: z.object({ authorization_url: z.string().optional(), token_url: z.string(), scopes: z.string().optional() }).optional(),
    valueProvided: z.boolean().describe("The agent gave a value (shown only as its length)"),
    valueLength: z.number().int().optional(),
    exists: z.boolean().describe("The vault has this KEY now (a set replaces it)"),
  })
  .meta({ id: "ProposalSlot" });

export const ProposalWarning = z
  .object({ kind: z.literal("new_host_for_existing_credential"), service: z.string(), host: z.string(), key: z.string(), previousHosts: z.array(z.string()), message: z.string() })
  .meta({ id: "ProposalWarning" });

export const Proposal = z
  .object({
    id: z.string(),
    vault: z.string().describe("The vault's slug"),
    status: z.enum(PROPOSAL_STATUSES),
    message: z.string(),
    services: z.array(z.record(z.string(), z.unknown())),
    credentials: z.array(ProposalSlotView),
    approvalUrl: z.string(),
    apiKeyId: z.string().nullable(),
    createdAt: isoDate,
    expiresAt: isoDate,
    decidedAt: isoDate.nullable(),
    decidedBy: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: "Proposal" });
export const ProposalResponse = z.object({ proposal: Proposal });
export const ProposalReview = z.object({ proposal: Proposal, warnings: z.array(ProposalWarning) });
export const ProposalList = z.object({ proposals: z.array(Proposal) });

export const ProposalWebhookBody = z.strictObject({ url: z.string().max(2000).nullable().describe("https URL for proposal events; null removes it") });
export const ProposalWebhook = z.object({ url: z.string().nullable() });
