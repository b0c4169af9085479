import { authenticateApiKey, touchApiKey } from "../auth/apikeys";
import { requireAdmin } from "../auth/admin";
import { authenticateUser } from "../auth/sessions";
import { ADMIN_ACTOR, createContext, type Context } from "../context";
import type { Env } from "../env";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import type { AuthMode } from "./route";
import { API_KEY_PREFIX } from "../auth/key-format";
import { AppError } from "../errors";
import { teamOfUser } from "../teams/members";

/**
 * Builds the request's one context from the route's auth mode: authenticates the caller and
 * names the actor, its team and scopes. API-key requests are also counted by the team's gate
 * in the same call; the decision comes back for the app to enforce and report.
 */
export async function buildContext(
  auth: AuthMode,
  request: Request,
  env: Env,
  exec: ExecutionContext,
  requestId: string,
): Promise<{ ctx: Context; decision?: RateLimitDecision }> {
  const base = { requestId, env, exec, clientAddress: request.headers.get("cf-connecting-ip") ?? undefined };
  switch (auth) {
    case "none":
      return { ctx: createContext({ ...base, actor: { type: "anonymous" } }) };
    case "admin":
      await requireAdmin(env, request.headers);
      return { ctx: createContext({ ...base, actor: ADMIN_ACTOR }) };
    case "user": {
      const user = await authenticateUser(env, request.headers);
      return { ctx: createContext({ ...base, actor: { type: "user", id: user.userId, email: user.email } }) };
    }
    case "vault": {
      // The caller only; the app resolves the vault from the path and checks it (teams/vaults.ts).
      if (isApiKeyRequest(request)) return buildContext("apiKey", request, env, exec, requestId);
      const user = await authenticateUser(env, request.headers);
      return { ctx: createContext({ ...base, actor: { type: "user", id: user.userId, email: user.email } }) };
    }
    case "apiKeyOrUser": {
      // An API key (by its prefix, or in X-API-Key) acts as itself; anything else must be a session.
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
      if (request.headers.has("x-api-key") || bearer?.startsWith(API_KEY_PREFIX)) return buildContext("apiKey", request, env, exec, requestId);
      if (!bearer) throw new AppError("api_key_required", "API key or session token required");
      const user = await authenticateUser(env, request.headers);
      const team = await teamOfUser(env.DB, user.userId, request.headers.get("x-team-id"));
      return { ctx: createContext({ ...base, actor: { type: "user", id: user.userId, email: user.email }, team }) };
    }
    case "apiKey": {
      // One RPC to the team's gate: authentication and the rate limit together.
      const admitted = await authenticateApiKey(env, request.headers);
      if (admitted.touch) touchApiKey(env.DB, admitted.auth, exec);
      const ctx = createContext({ ...base, actor: { type: "api_key", id: admitted.auth.apiKeyId, role: admitted.auth.role }, team: admitted.auth.team, scopes: admitted.auth.scopes, keyLabels: admitted.auth.labels });
      return { ctx, decision: admitted.decision };
    }
  }
}

/** An API key (by its prefix, or in X-API-Key) rather than a session token. */
function isApiKeyRequest(request: Request): boolean {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
  if (request.headers.has("x-api-key") || bearer?.startsWith(API_KEY_PREFIX)) return true;
  if (!bearer) throw new AppError("api_key_required", "API key or session token required");
  return false;
}
