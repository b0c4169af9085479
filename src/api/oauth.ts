import { z } from "zod";
import { isoDate } from "./common";

/** Schemas of the OAuth credential routes (issue 12): no server imports, the typed client reads them. */
const ProviderUrl = z.string().max(2048).url();
const Secretish = z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces");
export const TokenAuthMethod = z.enum(["client_secret_post", "client_secret_basic"]);

export const ConnectBody = z.strictObject({
  authorization_url: ProviderUrl.describe("The provider's authorization endpoint (the browser is sent there)"),
  token_url: ProviderUrl.describe("The provider's token endpoint (the vault calls it)"),
  client_id: z.string().min(1).max(512),
  client_secret: Secretish.optional().describe("Sealed at once; never returned"),
  scopes: z.string().max(2000).optional().describe("Space-separated, as the provider writes them"),
  token_auth_method: TokenAuthMethod.optional().describe("How the client authenticates at the token endpoint (default client_secret_post)"),
});
export const ConnectResponse = z.object({
  authorizationUrl: z.string().describe("Open in a browser: carries state, code_challenge (S256) and redirect_uri = this vault's /oauth/callback"),
  expiresAt: isoDate.describe("The flow must complete by then (10 minutes)"),
});

export const PasteBody = z.strictObject({
  access_token: Secretish.optional(),
  refresh_token: Secretish.optional().describe("Validated at once by a refresh against token_url; nothing is stored if it fails"),
  token_url: ProviderUrl.optional(),
  client_id: z.string().min(1).max(512).optional(),
  client_secret: Secretish.optional(),
  scopes: z.string().max(2000).optional(),
  token_auth_method: TokenAuthMethod.optional(),
  expires_in: z.number().int().min(1).max(10 * 365 * 86400).optional().describe("Seconds the pasted access token remains valid, when known"),
});

export const OAuthStatus = z.object({
  connected: z.boolean().describe("A usable access token is held (or can be refreshed)"),
  connectedAt: isoDate.nullable(),
  expiresAt: isoDate.nullable().describe("When the current access token expires (null: unknown)"),
  lastRefreshedAt: isoDate.nullable(),
  lastError: z.string().nullable().describe("The provider's error of the last failed refresh (never a token)"),
  needsReconnect: z.boolean().describe("The provider refused the refresh token (invalid_grant): connect again"),
});
