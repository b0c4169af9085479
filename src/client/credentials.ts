import type { z } from "zod";
import type { CreateCredentialBody, Credential as CredentialSchema, ListQuery, PatchCredentialBody, RotateBody, RotateResponse } from "../api/credentials";
import { seg, type Transport } from "./http";

export type Credential = z.output<typeof CredentialSchema>;
export type CreateCredentialInput = z.input<typeof CreateCredentialBody>;
export type UpdateCredentialInput = z.input<typeof PatchCredentialBody>;
/** `rotate({ name, newValue, gracePeriod })`, as seed 004 writes it. */
export type RotateCredentialInput = z.input<typeof RotateBody> & { name: string };
export type RotatedCredential = z.output<typeof RotateResponse>;
/** Filters: metadata.service, metadata.environment, type, and rotationDue (from metadata.rotateEvery). */
export type CredentialListQuery = Omit<z.input<typeof ListQuery>, "rotationDue"> & { rotationDue?: boolean };

/** /v1/credentials (seed 004): credentials with metadata and a lease policy; the value comes back only in a lease. */
export class Credentials {
  constructor(private readonly http: Transport) {}

  async create(input: CreateCredentialInput): Promise<Credential> {
    return (await this.http.request<{ credential: Credential }>("POST", "/v1/credentials", { auth: "apiKey", body: input })).data.credential;
  }

  async list(query: CredentialListQuery = {}): Promise<Credential[]> {
    return (await this.http.request<{ credentials: Credential[] }>("GET", "/v1/credentials", { auth: "apiKey", query })).data.credentials;
  }

  async get(name: string): Promise<Credential> {
    return (await this.http.request<{ credential: Credential }>("GET", `/v1/credentials/${seg(name)}`, { auth: "apiKey" })).data.credential;
  }

  /** Metadata, policy or allowedHosts (`null` lifts the restriction); the value changes only by `rotate`. */
  async update(name: string, patch: UpdateCredentialInput): Promise<Credential> {
    return (await this.http.request<{ credential: Credential }>("PATCH", `/v1/credentials/${seg(name)}`, { auth: "apiKey", body: patch })).data.credential;
  }

  /** Delete for good: every version is erased and every active lease revoked. */
  async delete(name: string): Promise<Credential> {
    return (await this.http.request<{ credential: Credential }>("DELETE", `/v1/credentials/${seg(name)}`, { auth: "apiKey" })).data.credential;
  }

  /** A new current version; the previous one serves its active leases until they end (or `gracePeriod` does). */
  async rotate({ name, ...body }: RotateCredentialInput): Promise<RotatedCredential> {
    return (await this.http.request<RotatedCredential>("POST", `/v1/credentials/${seg(name)}/rotate`, { auth: "apiKey", body })).data;
  }
}
