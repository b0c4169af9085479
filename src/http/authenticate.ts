import { authenticateApiKey, touchApiKey } from "../auth/apikeys";
import { requireAdmin } from "../auth/admin";
import { authenticateUser } from "../auth/sessions";
import { ADMIN_ACTOR, createContext, type Context } from "../context";
import type { Env } from "../env";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import type { AuthMode } from "./route";

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
    case "apiKey": {
      // One RPC to the team's gate: authentication and the rate limit together.
      const admitted = await authenticateApiKey(env, request.headers);
      if (admitted.touch) touchApiKey(env.DB, admitted.auth, exec);
      const ctx = createContext({ ...base, actor: { type: "api_key", id: admitted.auth.apiKeyId }, team: admitted.auth.team, scopes: admitted.auth.scopes });
      return { ctx, decision: admitted.decision };
    }
  }
}
