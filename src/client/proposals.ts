import type { z } from "zod";
import type {
  CreateProposalBody,
  Proposal as ProposalSchema,
  ProposalCreated as ProposalCreatedSchema,
  ProposalReview as ProposalReviewSchema,
  ProposalStatus,
} from "../api/proposals";
import { seg, type Transport } from "./http";

export type ProposalInput = z.input<typeof CreateProposalBody>;
export type CreatedProposal = z.output<typeof ProposalCreatedSchema>["proposal"];
export type Proposal = z.output<typeof ProposalSchema>;
export type ProposalReview = z.output<typeof ProposalReviewSchema>;
export type { ProposalStatus };

const vaultBase = (vault: string) => `/v1/vaults/${seg(vault)}/proposals`;

/**
 * Proposals (seed 003): an agent proposes services and credential slots; a member approves in a
 * browser (the `approvalUrl`), or with a session token here. Approve and reject refuse API keys.
 */
export class Proposals {
  constructor(private readonly http: Transport) {}

  /** Proposes (the API key's vault); answers the id and the approval URL to show a human. */
  async create(input: ProposalInput): Promise<CreatedProposal> {
    return (await this.http.request<{ proposal: CreatedProposal }>("POST", "/v1/proposals", { auth: "apiKey", body: input })).data.proposal;
  }

  /** The proposal's status (the proposing key polls this). */
  async get(id: string): Promise<Proposal> {
    return (await this.http.request<{ proposal: Proposal }>("GET", `/v1/proposals/${seg(id)}`, { auth: "apiKeyOrSession" })).data.proposal;
  }

  /** The vault's proposals, newest first. */
  async list(vault: string, options: { status?: ProposalStatus } = {}): Promise<Proposal[]> {
    const query = options.status ? { status: options.status } : {};
    return (await this.http.request<{ proposals: Proposal[] }>("GET", vaultBase(vault), { auth: "apiKeyOrSession", query })).data.proposals;
  }

  /** The approval view: the proposal and its exfiltration warnings. */
  async review(vault: string, id: string): Promise<ProposalReview> {
    return (await this.http.request<ProposalReview>("GET", `${vaultBase(vault)}/${seg(id)}`, { auth: "apiKeyOrSession" })).data;
  }

  /** Approves with the values of the slots that have none (a member's session only). */
  async approve(vault: string, id: string, credentials: Record<string, string> = {}): Promise<Proposal> {
    return (await this.http.request<{ proposal: Proposal }>("POST", `${vaultBase(vault)}/${seg(id)}/approve`, { auth: "session", body: { credentials } })).data.proposal;
  }

  /** Rejects with a reason (a member's session only). */
  async reject(vault: string, id: string, reason = ""): Promise<Proposal> {
    return (await this.http.request<{ proposal: Proposal }>("POST", `${vaultBase(vault)}/${seg(id)}/reject`, { auth: "session", body: { reason } })).data.proposal;
  }

  /** Where proposal events are sent (null: none). */
  async webhook(vault: string): Promise<string | null> {
    return (await this.http.request<{ url: string | null }>("GET", `/v1/vaults/${seg(vault)}/proposal-webhook`, { auth: "apiKeyOrSession" })).data.url;
  }

  /** Sets or removes (null) the proposal webhook URL (admin/owner). */
  async setWebhook(vault: string, url: string | null): Promise<string | null> {
    return (await this.http.request<{ url: string | null }>("PUT", `/v1/vaults/${seg(vault)}/proposal-webhook`, { auth: "apiKeyOrSession", body: { url } })).data.url;
  }
}
