import type { z } from "zod";
import type { ConnectBody, ConnectResponse, OAuthStatus as OAuthStatusSchema, PasteBody } from "../api/oauth";
import { seg, type Transport } from "./http";

export type ConnectOAuthInput = z.input<typeof ConnectBody> & { vault: string; key: string };
export type ConnectedOAuth = z.output<typeof ConnectResponse>;
export type PasteOAuthInput = z.input<typeof PasteBody> & { vault: string; key: string };
export type OAuthStatus = z.output<typeof OAuthStatusSchema>;

const base = (vault: string, key: string) => `/v1/vaults/${seg(vault)}/credentials/${seg(key)}/oauth`;

/** OAuth credentials of a vault (issue 12): connect with a provider, paste tokens, status. */
export class OAuth {
  constructor(private readonly http: Transport) {}

  /** Starts the connect flow: open `authorizationUrl` in a browser; the vault's callback stores the tokens. */
  async connect({ vault, key, ...body }: ConnectOAuthInput): Promise<ConnectedOAuth> {
    return (await this.http.request<ConnectedOAuth>("POST", `${base(vault, key)}/connect`, { auth: "apiKeyOrSession", body })).data;
  }

  /** Stores pasted tokens; a refresh token is validated at once (400 oauth_token_rejected otherwise). */
  async pasteTokens({ vault, key, ...body }: PasteOAuthInput): Promise<OAuthStatus> {
    return (await this.http.request<OAuthStatus>("POST", `${base(vault, key)}/tokens`, { auth: "apiKeyOrSession", body })).data;
  }

  async status({ vault, key }: { vault: string; key: string }): Promise<OAuthStatus> {
    return (await this.http.request<OAuthStatus>("GET", `${base(vault, key)}/status`, { auth: "apiKeyOrSession" })).data;
  }
}
