import { teamKeyMaterial, type KnownActor, type TeamContext } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { gatewayChanged } from "../gateway/cache";
import { log } from "../log";
import { allowLoopbackTargets, checkOutboundUrl } from "../outbound/url-policy";
import { openSecret, sealSecret, type SealedSecret } from "../vault/cipher";
import { getKeyring } from "../vault/keyring";
import { checkStateUser } from "./browser-user";
import { hashState, randomToken, s256Challenge } from "./pkce";
import { refresherFor } from "./refresher";
import { ConnectionConflict, storeConnection } from "./store";
import { requestTokens, type TokenAuthMethod } from "./token-endpoint";

/**
 * Connect with a provider: Authorization Code + PKCE S256. `startConnect` records the flow (the
 * state hashed, the verifier and client secret sealed) and answers the provider's URL;
 * `completeConnect` is the callback: the state is used once, within STATE_TTL_MS, by the user
 * who started, then the code is exchanged and the tokens stored. The callback never throws at
 * its caller: every outcome is a completion the browser is shown.
 */
export const STATE_TTL_MS = 10 * 60_000;
export const CALLBACK_PATH = "/oauth/callback";
export const COMPLETE_PATH = "/oauth/complete";

export interface ConnectInput {
  authorization_url: string;
  token_url: string;
  client_id: string;
  client_secret?: string | undefined;
  scopes?: string | undefined;
  token_auth_method?: TokenAuthMethod | undefined;
}

interface StateConfig {
  tokenUrl: string;
  authorizationUrl: string;
  clientId: string;
  scopes: string | null;
  authMethod: TokenAuthMethod;
}

/** A URL the vault calls (token_url) or sends a browser to (authorization_url): the outbound policy applies to both. */
export function checkProviderUrl(env: Env, field: string, raw: string): void {
  const verdict = checkOutboundUrl(raw, allowLoopbackTargets(env));
  if (!verdict.ok) throw new AppError("url_not_allowed", `${field} ${verdict.reason}`, { field });
}

const stateLabel = (stateHash: string, part: string) => `oauth-state:${stateHash}#${part}`;

export async function startConnect(ctx: TeamContext, key: string, input: ConnectInput, origin: string): Promise<{ authorizationUrl: string; expiresAt: string }> {
  const { env, team } = ctx;
  checkProviderUrl(env, "authorization_url", input.authorization_url);
  checkProviderUrl(env, "token_url", input.token_url);
  const state = randomToken();
  const verifier = randomToken(48);
  const stateHash = await hashState(state);
  const redirectUri = `${origin}${CALLBACK_PATH}`;
  const keyring = await getKeyring(env);
  const sealed: { verifier: SealedSecret; clientSecret?: SealedSecret } = { verifier: await sealSecret(keyring, teamKeyMaterial(team), stateLabel(stateHash, "verifier"), verifier) };
  if (input.client_secret) sealed.clientSecret = await sealSecret(keyring, teamKeyMaterial(team), stateLabel(stateHash, "client_secret"), input.client_secret);
  const config: StateConfig = {
    tokenUrl: input.token_url,
    authorizationUrl: input.authorization_url,
    clientId: input.client_id,
    scopes: input.scopes?.trim() || null,
    authMethod: input.token_auth_method ?? "client_secret_post",
  };
  const now = Date.now();
  const at = new Date(now).toISOString();
  const expiresAt = new Date(now + STATE_TTL_MS).toISOString();
  const userId = ctx.actor.type === "user" ? ctx.actor.id : null;
  await env.DB.batch([
    // Old flows of the team go (kept a day, so a late click says "expired", not "unknown").
    env.DB.prepare("DELETE FROM oauth_states WHERE team_id = ? AND expires_at < ?").bind(team.id, new Date(now - 86_400_000).toISOString()),
    env.DB
      .prepare(
        `INSERT INTO oauth_states (state_hash, team_id, key_name, actor_type, actor_id, user_id, redirect_uri, config, sealed, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(stateHash, team.id, key, ctx.actor.type, ctx.actor.id, userId, redirectUri, JSON.stringify(config), JSON.stringify(sealed), at, expiresAt),
  ]);
  const url = new URL(input.authorization_url);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", input.client_id);
  url.searchParams.set("redirect_uri", redirectUri);
  if (config.scopes) url.searchParams.set("scope", config.scopes);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", await s256Challenge(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return { authorizationUrl: url.toString(), expiresAt };
}

export type Completion = { status: "success"; key: string } | { status: "error"; error: string; description?: string | undefined; key?: string | undefined };

interface StateRow {
  state_hash: string;
  team_id: string;
  key_name: string;
  actor_type: string;
  actor_id: string;
  user_id: string | null;
  redirect_uri: string;
  config: string;
  sealed: string;
  expires_at: string;
  used_at: string | null;
}

export interface CallbackParams {
  code?: string | undefined;
  state?: string | undefined;
  error?: string | undefined;
  error_description?: string | undefined;
}

/** The callback: never throws; a failure is a completion saying what went wrong. */
export async function completeConnect(env: Env, params: CallbackParams, cookieUser: string | undefined, requestId: string): Promise<Completion> {
  try {
    return await complete(env, params, cookieUser, requestId);
  } catch (error) {
    log.error("oauth_callback_failed", { requestId, message: error instanceof Error ? error.name : "error" });
    return { status: "error", error: "server_error", description: "The connection could not be completed; try again." };
  }
}

async function complete(env: Env, params: CallbackParams, cookieUser: string | undefined, requestId: string): Promise<Completion> {
  if (!params.state) return { status: "error", error: params.error ?? "invalid_request", description: params.error ? params.error_description : "The callback has no state." };
  const stateHash = await hashState(params.state);
  const row = await env.DB.prepare("SELECT * FROM oauth_states WHERE state_hash = ?").bind(stateHash).first<StateRow>();
  if (!row) return { status: "error", error: "unknown_state", description: "This connection link is unknown. Start the connection again." };
  if (row.used_at) return { status: "error", error: "state_used", description: "This connection link was already used. Start the connection again.", key: row.key_name };
  if (Date.parse(row.expires_at) <= Date.now()) return { status: "error", error: "state_expired", description: "This connection link expired (10 minutes). Start the connection again.", key: row.key_name };
  if (!checkStateUser(row.user_id, cookieUser).ok) return { status: "error", error: "wrong_user", description: "This connection was started by another user.", key: row.key_name };
  // Used once: of two concurrent callbacks with the same state, one goes on.
  const now = new Date().toISOString();
  const consumed = await env.DB.prepare("UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL AND expires_at > ?").bind(now, stateHash, now).run();
  if (!consumed.meta.changes) return { status: "error", error: "state_used", description: "This connection link was already used. Start the connection again.", key: row.key_name };
  if (params.error) return { status: "error", error: params.error.slice(0, 64), description: params.error_description?.slice(0, 300), key: row.key_name };
  if (!params.code) return { status: "error", error: "invalid_request", description: "The provider sent no authorization code.", key: row.key_name };

  const team = await env.DB.prepare("SELECT id, key_salt FROM teams WHERE id = ?").bind(row.team_id).first<{ id: string; key_salt: string }>();
  if (!team) return { status: "error", error: "unknown_state", description: "The vault of this connection no longer exists.", key: row.key_name };
  const material = { teamId: team.id, salt: team.key_salt };
  const keyring = await getKeyring(env);
  const sealed = JSON.parse(row.sealed) as { verifier: SealedSecret; clientSecret?: SealedSecret };
  const verifier = await openSecret(keyring, material, stateLabel(stateHash, "verifier"), sealed.verifier);
  const clientSecret = sealed.clientSecret ? await openSecret(keyring, material, stateLabel(stateHash, "client_secret"), sealed.clientSecret) : null;
  const config = JSON.parse(row.config) as StateConfig;
  const outcome = await requestTokens(env, { tokenUrl: config.tokenUrl, clientId: config.clientId, clientSecret, authMethod: config.authMethod }, { type: "authorization_code", code: params.code, redirectUri: row.redirect_uri, codeVerifier: verifier });
  if (!outcome.ok) return { status: "error", error: outcome.error, description: outcome.description, key: row.key_name };
  const actor: KnownActor = row.actor_type === "user" ? { type: "user", id: row.actor_id, email: "" } : { type: "api_key", id: row.actor_id, role: "standard" };
  let tokenId: string;
  try {
    tokenId = await storeConnection(env, { id: team.id, keySalt: team.key_salt }, {
      key: row.key_name,
      tokenUrl: config.tokenUrl,
      authorizationUrl: config.authorizationUrl,
      clientId: config.clientId,
      clientSecret,
      scopes: outcome.tokens.scope ?? config.scopes,
      authMethod: config.authMethod,
      tokens: outcome.tokens,
      via: "connect",
    }, { actor, requestId });
  } catch (error) {
    if (error instanceof ConnectionConflict) return { status: "error", error: "conflict", description: "The credential changed meanwhile. Start the connection again.", key: row.key_name };
    throw error;
  }
  await afterConnection(env, { teamId: team.id, keySalt: team.key_salt, tokenId });
  return { status: "success", key: row.key_name };
}

/** After a connection is stored: the refresher plans its alarm, the proxy sees the new value. */
export async function afterConnection(env: Env, target: { teamId: string; keySalt: string; tokenId: string }): Promise<void> {
  await refresherFor(env, target.tokenId).connected(target);
  await gatewayChanged(env, target.teamId);
}
