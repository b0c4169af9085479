import { Vault } from "../client/index";
import { readProjectVault, readSession, PROJECT_FILE, type Session } from "./config";
import { UsageError } from "./errors";
import { Input } from "./input";
import type { Io } from "./io";
import { Output } from "./output";

/** Options every command takes (declared once on the program). */
export interface GlobalOptions {
  json?: boolean;
  vault?: string;
}

/** A vault (a team) as the CLI lists and matches it. */
export interface VaultRef {
  id: string;
  slug?: string | undefined;
  name?: string | undefined;
  role?: string | undefined;
}

const API_KEY_PREFIX = "tvk_";
const TEAM_PART = 26;

/**
 * The run's credentials and clients. Two ways to be signed in:
 * - agent mode: `TOKEN_VAULT_URL` + `TOKEN_VAULT_TOKEN` (an API key), nothing on disk;
 * - a person: `login` stores a session (server URL, email, session token) in the config dir.
 * The session token is only ever sent to the server it came from.
 */
export class Ctx {
  readonly out: Output;
  readonly input: Input;
  readonly session: Session | undefined;
  private readonly apiKey: string | undefined;
  private readonly apiUrl: string | undefined;

  constructor(
    readonly io: Io,
    readonly options: GlobalOptions,
  ) {
    this.out = new Output(io, options.json === true);
    this.input = new Input(io);
    this.session = readSession(io);
    this.apiKey = io.env.TOKEN_VAULT_TOKEN || undefined;
    this.apiUrl = io.env.TOKEN_VAULT_URL || undefined;
  }

  get agentMode(): boolean {
    return this.apiKey !== undefined;
  }

  /** The server this run talks to. */
  get url(): string | undefined {
    return this.agentMode ? this.apiUrl : (this.session?.url ?? this.apiUrl);
  }

  /** For the /v1 routes that take an API key (tokens, tasks, credentials, leases, audit). */
  keyClient(command: string): Vault {
    if (this.apiKey) return new Vault({ baseUrl: this.requireApiUrl(), apiKey: this.apiKey });
    if (this.session) {
      throw new UsageError(`\`${command}\` needs an API key: set TOKEN_VAULT_URL and TOKEN_VAULT_TOKEN (create a key with \`token-vault key create --name cli\`)`);
    }
    throw notSignedIn();
  }

  /** For the routes of a signed-in person (teams, API keys). */
  sessionClient(command: string): Vault {
    if (this.session) return new Vault({ baseUrl: this.session.url, sessionToken: this.session.token });
    if (this.apiKey) throw new UsageError(`\`${command}\` needs a person's session: run \`token-vault login\` (an API key cannot do this)`);
    throw notSignedIn();
  }

  /** Routes that take either (`/vault/secrets`): the key when there is one, else the session acting for the chosen vault. */
  async eitherClient(): Promise<Vault> {
    if (this.apiKey) return new Vault({ baseUrl: this.requireApiUrl(), apiKey: this.apiKey });
    if (this.session) {
      const team = await this.resolveVault();
      return new Vault({ baseUrl: this.session.url, sessionToken: this.session.token, teamId: team.id });
    }
    throw notSignedIn();
  }

  /** For /v1/vaults/*: the key when there is one, else the session (the vault is in the path). */
  vaultClient(): Vault {
    if (this.apiKey) return new Vault({ baseUrl: this.requireApiUrl(), apiKey: this.apiKey });
    if (this.session) return new Vault({ baseUrl: this.session.url, sessionToken: this.session.token });
    throw notSignedIn();
  }

  /** The vaults this caller can use: a person's memberships, or the one an API key belongs to. */
  async listVaults(): Promise<VaultRef[]> {
    const vaults = await this.vaultClient().vaults.list();
    return vaults.map((v) => ({ id: v.id, slug: v.slug, name: v.name, role: v.role }));
  }

  /** The chosen vault's slug (or id), for a /v1/vaults/:vault path. */
  async vaultName(): Promise<string> {
    const vault = await this.resolveVault();
    return vault.slug ?? vault.id;
  }

  /** Where the vault choice comes from, in order: --vault, TOKEN_VAULT_VAULT, token-vault.json, the only vault. */
  explicitVault(): { ref: string; source: string } | undefined {
    if (this.options.vault) return { ref: this.options.vault, source: "--vault" };
    if (this.io.env.TOKEN_VAULT_VAULT) return { ref: this.io.env.TOKEN_VAULT_VAULT, source: "TOKEN_VAULT_VAULT" };
    const project = readProjectVault(this.io);
    if (project) return { ref: project, source: PROJECT_FILE };
    return undefined;
  }

  async resolveVault(): Promise<VaultRef & { source: string }> {
    const vaults = await this.listVaults();
    const explicit = this.explicitVault();
    if (explicit) {
      const match = vaults.find((v) => v.id === explicit.ref || v.slug === explicit.ref);
      if (match) return { ...match, source: explicit.source };
      throw new UsageError(`no vault "${explicit.ref}" (from ${explicit.source}); yours: ${describeVaults(vaults)}`);
    }
    const [only, ...others] = vaults;
    if (only && others.length === 0) return { ...only, source: "your only vault" };
    if (!only) throw new UsageError("you have no vault");
    throw new UsageError(`several vaults: choose one with --vault, TOKEN_VAULT_VAULT or \`token-vault vault init\`: ${describeVaults(vaults)}`);
  }

  private requireApiUrl(): string {
    if (!this.apiUrl) throw new UsageError("TOKEN_VAULT_TOKEN is set but TOKEN_VAULT_URL is not: set it to the vault's address");
    return this.apiUrl;
  }
}

function notSignedIn(): UsageError {
  return new UsageError("not signed in: run `token-vault login --url URL`, or set TOKEN_VAULT_URL and TOKEN_VAULT_TOKEN");
}

export function describeVaults(vaults: VaultRef[]): string {
  return vaults.map((v) => (v.slug ? `${v.slug} (${v.id})` : v.id) + (v.name ? ` "${v.name}"` : "")).join(", ");
}

/** What may be shown of a credential: its prefix and team part, never the random part. */
export function keyDisplay(key: string): string {
  return key.startsWith(API_KEY_PREFIX) ? `${key.slice(0, API_KEY_PREFIX.length + TEAM_PART + 4)}...` : "(not a tvk_ key)";
}
