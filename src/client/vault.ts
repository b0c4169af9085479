import { Auth, Keys, Teams } from "./accounts";
import { Audit } from "./audit";
import { Credentials } from "./credentials";
import { Transport, type VaultOptions } from "./http";
import { Leases } from "./leases";
import { OAuth } from "./oauth";
import { Proposals } from "./proposals";
import { Providers } from "./providers";
import { Secrets } from "./secrets";
import { Tasks } from "./tasks";
import { Tokens } from "./tokens";
import { Webhooks } from "./webhooks";
import { Vaults } from "./vaults";

/**
 * The typed client: one property per resource, each a thin class over the shared transport.
 * A new resource is one file (a class taking the `Transport`) and one line here.
 */
export class Vault {
  readonly tokens: Tokens;
  readonly tasks: Tasks;
  readonly audit: Audit;
  readonly webhooks: Webhooks;
  readonly providers: Providers;
  readonly auth: Auth;
  readonly teams: Teams;
  readonly keys: Keys;
  readonly secrets: Secrets;
  readonly credentials: Credentials;
  readonly leases: Leases;
  readonly oauth: OAuth;
  /** Seed 003: vaults, credentials by KEY, services, agent tokens, the proxy's log. */
  readonly vaults: Vaults;
  /** Proposals: an agent asks for credentials and services, a member approves. */
  readonly proposals: Proposals;

  constructor(private readonly options: VaultOptions) {
    const http = new Transport(options);
    this.tokens = new Tokens(http);
    this.tasks = new Tasks(http);
    this.audit = new Audit(http);
    this.webhooks = new Webhooks(http);
    this.providers = new Providers(http);
    this.auth = new Auth(http);
    this.teams = new Teams(http);
    this.keys = new Keys(http);
    this.secrets = new Secrets(http);
    this.credentials = new Credentials(http);
    this.leases = new Leases(http);
    this.oauth = new OAuth(http);
    this.vaults = new Vaults(http);
    this.proposals = new Proposals(http);
  }

  /**
   * The same client with other credentials, e.g. `vault.with({ sessionToken })` after a login,
   * or `vault.with({ apiKey: undefined, sessionToken, teamId })` for a user's own secrets.
   */
  with(credentials: Pick<VaultOptions, "apiKey" | "sessionToken" | "teamId">): Vault {
    return new Vault({ ...this.options, ...credentials });
  }
}
