import type { z } from "zod";
import type {
  AgentTokenBody,
  CliKeyBody,
  CreatedAgentToken as CreatedAgentTokenSchema,
  CreatedCliKey as CreatedCliKeySchema,
  LogQuery,
  PatchVaultBody,
  ProxyLogEntry as ProxyLogEntrySchema,
  ProxyLogList as ProxyLogListSchema,
  Service as ServiceSchema,
  ServiceBody,
  Vault as VaultSchema,
  VaultCredential as VaultCredentialSchema,
} from "../api/vaults";
import { seg, type Transport } from "./http";

export type VaultInfo = z.output<typeof VaultSchema>;
export type UpdateVaultInput = z.input<typeof PatchVaultBody>;
export type VaultCredential = z.output<typeof VaultCredentialSchema>;
export type ServiceInput = z.input<typeof ServiceBody>;
export type Service = z.output<typeof ServiceSchema>;
export type MintAgentTokenInput = z.input<typeof AgentTokenBody>;
export type CreatedAgentToken = z.output<typeof CreatedAgentTokenSchema>;
export type MintCliKeyInput = z.input<typeof CliKeyBody>;
export type CreatedCliKey = z.output<typeof CreatedCliKeySchema>;
export type ProxyLogEntry = z.output<typeof ProxyLogEntrySchema>;
export type ProxyLogList = z.output<typeof ProxyLogListSchema>;
export type ProxyLogQuery = Pick<z.input<typeof LogQuery>, "service" | "cursor"> & { status?: number; limit?: number; offset?: number };

const base = (vault: string) => `/v1/vaults/${seg(vault)}`;

/**
 * Seed 003's vaults (/v1/vaults): a team is a vault, named by slug or team id. Every method takes
 * the client's API key when it has one, else its session token (a member's).
 */
export class Vaults {
  readonly credentials: VaultCredentials;
  readonly services: VaultServices;

  constructor(private readonly http: Transport) {
    this.credentials = new VaultCredentials(http);
    this.services = new VaultServices(http);
  }

  /** The caller's vaults: a user's memberships (with the role), an API key's own team. */
  async list(): Promise<VaultInfo[]> {
    return (await this.http.request<{ vaults: VaultInfo[] }>("GET", "/v1/vaults", { auth: "apiKeyOrSession" })).data.vaults;
  }

  async get(vault: string): Promise<VaultInfo> {
    return (await this.http.request<{ vault: VaultInfo }>("GET", base(vault), { auth: "apiKeyOrSession" })).data.vault;
  }

  /** A new slug and/or the proxy's unmatched policy ("deny" | "passthrough"); admin/owner or vault:write. */
  async update(vault: string, patch: UpdateVaultInput): Promise<VaultInfo> {
    return (await this.http.request<{ vault: VaultInfo }>("PATCH", base(vault), { auth: "apiKeyOrSession", body: patch })).data.vault;
  }

  /** A short-lived agent key for the vault (ttl: seconds or "5m".."7d"); the key is returned only here. */
  async mintAgentToken(vault: string, input: MintAgentTokenInput): Promise<CreatedAgentToken> {
    return (await this.http.request<CreatedAgentToken>("POST", `${base(vault)}/agent-tokens`, { auth: "apiKeyOrSession", body: input })).data;
  }

  /**
   * A signed-in person's short-lived standard key (ttl 5 minutes by default, 1 hour at most) for
   * the routes that take only API keys, with the scopes of their role; user sessions only.
   */
  async mintCliKey(vault: string, input: MintCliKeyInput = {}): Promise<CreatedCliKey> {
    return (await this.http.request<CreatedCliKey>("POST", `${base(vault)}/cli-keys`, { auth: "session", body: input })).data;
  }

  /** The proxy's request log (metadata only), newest first. */
  async logs(vault: string, query: ProxyLogQuery = {}): Promise<ProxyLogList> {
    return (await this.http.request<ProxyLogList>("GET", `${base(vault)}/logs`, { auth: "apiKeyOrSession", query })).data;
  }
}

/** Credentials by KEY (UPPER_SNAKE_CASE). */
export class VaultCredentials {
  constructor(private readonly http: Transport) {}

  /** Sets one or several KEYs atomically (`{ STRIPE_KEY: "sk_..." }`); an existing KEY gets a new version. */
  async set(vault: string, credentials: Record<string, string>): Promise<VaultCredential[]> {
    return (await this.http.request<{ credentials: VaultCredential[] }>("POST", `${base(vault)}/credentials`, { auth: "apiKeyOrSession", body: { credentials } })).data.credentials;
  }

  /** KEYs without values; `{ reveal: true }` adds them (members, or keys with secrets:reveal). */
  async list(vault: string, options: { reveal?: boolean } = {}): Promise<VaultCredential[]> {
    const query = options.reveal ? { reveal: "true" } : {};
    return (await this.http.request<{ credentials: VaultCredential[] }>("GET", `${base(vault)}/credentials`, { auth: "apiKeyOrSession", query })).data.credentials;
  }

  /** One KEY with its value. */
  async get(vault: string, key: string): Promise<VaultCredential> {
    return (await this.http.request<{ credential: VaultCredential }>("GET", `${base(vault)}/credentials/${seg(key)}`, { auth: "apiKeyOrSession" })).data.credential;
  }

  async delete(vault: string, key: string): Promise<VaultCredential> {
    return (await this.http.request<{ credential: VaultCredential }>("DELETE", `${base(vault)}/credentials/${seg(key)}`, { auth: "apiKeyOrSession" })).data.credential;
  }
}

/** Services: which credential goes to which host. */
export class VaultServices {
  constructor(private readonly http: Transport) {}

  async list(vault: string): Promise<Service[]> {
    return (await this.http.request<{ services: Service[] }>("GET", `${base(vault)}/services`, { auth: "apiKeyOrSession" })).data.services;
  }

  /** Creates or replaces one service by name. */
  async upsert(vault: string, service: ServiceInput): Promise<Service> {
    return (await this.http.request<{ service: Service }>("POST", `${base(vault)}/services`, { auth: "apiKeyOrSession", body: service })).data.service;
  }

  /** Replaces every service, in this order. */
  async replace(vault: string, services: ServiceInput[]): Promise<Service[]> {
    return (await this.http.request<{ services: Service[] }>("PUT", `${base(vault)}/services`, { auth: "apiKeyOrSession", body: { services } })).data.services;
  }

  async delete(vault: string, name: string): Promise<Service> {
    return (await this.http.request<{ service: Service }>("DELETE", `${base(vault)}/services/${seg(name)}`, { auth: "apiKeyOrSession" })).data.service;
  }
}
