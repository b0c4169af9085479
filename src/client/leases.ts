import type { z } from "zod";
import type { IssuedLease as IssuedLeaseSchema, Lease as LeaseSchema, LeaseBody, LeaseListQuery as LeaseListQuerySchema, RenewBody } from "../api/credentials";
import { seg, type Transport } from "./http";

/** A lease as issued: the only answer that carries the credential's `value`. */
export type IssuedLease = z.output<typeof IssuedLeaseSchema>;
/** A lease without its value (list, renew, revoke). */
export type Lease = z.output<typeof LeaseSchema>;
export type CreateLeaseInput = z.input<typeof LeaseBody>;
export type RenewLeaseInput = z.input<typeof RenewBody>;
/** Filters: credentialName, identity (`name` or `type:name`), active. */
export type LeaseListQuery = Omit<z.input<typeof LeaseListQuerySchema>, "active"> & { active?: boolean };

/** /v1/leases (seed 004): time-boxed access to a credential's value (API keys need `secrets:reveal`). */
export class Leases {
  constructor(private readonly http: Transport) {}

  /** The lease with the value: `(await vault.leases.create({...})).value`. At `maxLeases`: 429 lease_limit_reached with `retryAfter`. */
  async create(input: CreateLeaseInput): Promise<IssuedLease> {
    return (await this.http.request<{ lease: IssuedLease }>("POST", "/v1/leases", { auth: "apiKey", body: input })).data.lease;
  }

  /** Extend an active lease (never past its `maxExpiresAt`); an ended one is 410 lease_expired. */
  async renew(leaseId: string, input: RenewLeaseInput = {}): Promise<Lease> {
    return (await this.http.request<{ lease: Lease }>("POST", `/v1/leases/${seg(leaseId)}/renew`, { auth: "apiKey", body: input })).data.lease;
  }

  /** End a lease now; its slot is free at once. */
  async revoke(leaseId: string): Promise<Lease> {
    return (await this.http.request<{ lease: Lease }>("DELETE", `/v1/leases/${seg(leaseId)}`, { auth: "apiKey" })).data.lease;
  }

  async list(query: LeaseListQuery = {}): Promise<Lease[]> {
    return (await this.http.request<{ leases: Lease[] }>("GET", "/v1/leases", { auth: "apiKey", query })).data.leases;
  }
}
