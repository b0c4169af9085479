import type { ContextTeam, TeamContext } from "../context";
import type { Env } from "../env";
import type { AuditBy } from "./store";
import { AppError } from "../errors";
import type { Resolved } from "../vault/tokens";
import { refresherFor, type AccessCode } from "./refresher";

/**
 * Injection of OAuth credentials: wherever a credential's value is injected, an OAuth
 * credential's value is its current access token, asked of its refresher (which refreshes it
 * first when it is within 5 minutes of expiry). Services and tasks need not know the difference.
 */
export class OAuthUnavailableError extends Error {
  constructor(readonly code: AccessCode, readonly tokenId: string, message: string) {
    super(message);
    this.name = "OAuthUnavailableError";
  }
}

/**
 * The current access token of the OAuth credential `tokenId` of the context's team.
 * `rejectedToken`: the token an upstream just answered 401 to (forces one refresh, unless the
 * credential already holds a newer token).
 */
export async function currentAccessToken(ctx: TeamContext, tokenId: string, options: { rejectedToken?: string } = {}): Promise<string> {
  const result = await refresherFor(ctx.env, tokenId).access({
    teamId: ctx.team.id,
    keySalt: ctx.team.keySalt,
    tokenId,
    by: { actor: ctx.actor, requestId: ctx.requestId },
    ...(options.rejectedToken !== undefined ? { rejectedToken: options.rejectedToken } : {}),
  });
  if (!result.ok) throw new OAuthUnavailableError(result.code, tokenId, result.message);
  return result.accessToken;
}

/** As an API error (502 oauth_not_connected / oauth_refresh_failed), for the proxy and routes. */
export function toAppError(error: OAuthUnavailableError): AppError {
  return new AppError(error.code, error.message, {}, { internal: `oauth credential ${error.tokenId}` });
}

/** Resolved tok_ references: each OAuth credential's value becomes its current access token. */
export async function freshenOAuthValues(ctx: TeamContext, resolved: Resolved): Promise<void> {
  const oauth = [...resolved.types].filter(([, type]) => type === "oauth").map(([id]) => id);
  const tokens = await Promise.all(oauth.map((id) => currentAccessToken(ctx, id)));
  oauth.forEach((id, i) => resolved.values.set(id, tokens[i] ?? ""));
}

/**
 * For the proxy (gateway/credential-value.ts): the access token to inject for an OAuth KEY, or
 * the 502 that says why there is none. `rejectedToken`: the token the upstream just answered
 * 401 to (one forced refresh, shared by concurrent requests).
 */
export async function oauthInjectionValue(env: Env, team: ContextTeam, tokenId: string, by: AuditBy, rejectedToken?: string): Promise<string> {
  const result = await refresherFor(env, tokenId).access({ teamId: team.id, keySalt: team.keySalt, tokenId, by, ...(rejectedToken !== undefined ? { rejectedToken } : {}) });
  if (!result.ok) throw toAppError(new OAuthUnavailableError(result.code, tokenId, result.message));
  return result.accessToken;
}
