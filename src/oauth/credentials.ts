import { type TeamContext } from "../context";
import { AppError } from "../errors";
import { afterConnection, checkProviderUrl } from "./connect";
import { ConnectionConflict, loadByKey, storeConnection, type OAuthRow } from "./store";
import { requestTokens, type IssuedTokens, type TokenAuthMethod } from "./token-endpoint";

/** Pasted tokens and the status of an OAuth credential. */
export interface PasteInput {
  access_token?: string | undefined;
  refresh_token?: string | undefined;
  token_url?: string | undefined;
  client_id?: string | undefined;
  client_secret?: string | undefined;
  scopes?: string | undefined;
  token_auth_method?: TokenAuthMethod | undefined;
  /** Seconds the pasted access token is still valid, when known. */
  expires_in?: number | undefined;
}

export function statusView(row: OAuthRow | null) {
  const now = Date.now();
  const hasRefresh = row !== null && row.sealed.includes("refreshToken");
  const live = row !== null && (row.expires_at === null || Date.parse(row.expires_at) > now || hasRefresh);
  return {
    connected: row !== null && !row.needs_reconnect && live,
    connectedAt: row?.connected_at ?? null,
    expiresAt: row?.expires_at ?? null,
    lastRefreshedAt: row?.last_refreshed_at ?? null,
    lastError: row?.last_error ?? null,
    needsReconnect: row !== null && row.needs_reconnect === 1,
  };
}
export type OAuthStatus = ReturnType<typeof statusView>;

export async function oauthStatus(ctx: TeamContext, key: string): Promise<OAuthStatus> {
  const row = await loadByKey(ctx.env, ctx.team.id, key);
  if (!row) throw new AppError("not_found", "No OAuth credential with this KEY");
  return statusView(row);
}

const invalid = (path: string, message: string) => new AppError("validation_failed", "Invalid request body", { issues: [{ path: `body.${path}`, message }] });

/**
 * Stores pasted tokens. A refresh token is validated at once by refreshing against token_url:
 * on failure nothing is stored and the provider's error is answered (400); on success the
 * fresh tokens are stored (a rotated refresh token replacing the pasted one).
 */
export async function pasteTokens(ctx: TeamContext, key: string, input: PasteInput): Promise<OAuthStatus> {
  const { env, team } = ctx;
  if (!input.access_token && !input.refresh_token) throw invalid("access_token", "give access_token, refresh_token, or both");
  if (input.refresh_token && !input.token_url) throw invalid("token_url", "a refresh_token needs the token_url to refresh it at");
  if (input.token_url) checkProviderUrl(env, "token_url", input.token_url);
  const authMethod = input.token_auth_method ?? "client_secret_post";
  let tokens: IssuedTokens;
  if (input.refresh_token && input.token_url) {
    const outcome = await requestTokens(env, { tokenUrl: input.token_url, clientId: input.client_id ?? null, clientSecret: input.client_secret ?? null, authMethod }, { type: "refresh_token", refreshToken: input.refresh_token });
    if (!outcome.ok) {
      throw new AppError("oauth_token_rejected", `The OAuth provider rejected the refresh token: ${outcome.error}`, { providerError: outcome.error, ...(outcome.description ? { providerErrorDescription: outcome.description } : {}) });
    }
    tokens = { ...outcome.tokens, refreshToken: outcome.tokens.refreshToken ?? input.refresh_token };
  } else {
    tokens = { accessToken: input.access_token ?? "", refreshToken: undefined, expiresIn: input.expires_in, scope: undefined };
  }
  let tokenId: string;
  try {
    tokenId = await storeConnection(env, team, {
      key,
      tokenUrl: input.token_url ?? null,
      authorizationUrl: null,
      clientId: input.client_id ?? null,
      clientSecret: input.client_secret ?? null,
      scopes: tokens.scope ?? input.scopes ?? null,
      authMethod,
      tokens,
      via: "paste",
    }, { actor: ctx.actor, requestId: ctx.requestId });
  } catch (error) {
    if (error instanceof ConnectionConflict) throw new AppError("version_conflict");
    throw error;
  }
  await afterConnection(env, { teamId: team.id, keySalt: team.keySalt, tokenId });
  return oauthStatus(ctx, key);
}
