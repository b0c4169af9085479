import { DurableObject } from "cloudflare:workers";
import { OAUTH_REFRESH_ACTOR } from "../context";
import type { Env } from "../env";
import { newId } from "../ids";
import { log } from "../log";
import { loadById, openAccessToken, openClient, storeRefreshFailure, storeRefreshed, type AuditBy, type OAuthRow, type OAuthTarget } from "./store";
import { requestTokens } from "./token-endpoint";

/**
 * One Durable Object per OAuth credential: the only place its refresh token is used. Every
 * injection (tasks, the proxy) asks it for the current access token; it answers from D1 and
 * refreshes first when the token is within REFRESH_WINDOW_MS of expiry. Its calls run one
 * after another (a chain), so however many isolates and requests ask during an expiry, the
 * token endpoint is called once and the others get that result. An alarm refreshes ahead of
 * expiry, so requests rarely wait for the provider.
 */
export const REFRESH_WINDOW_MS = 5 * 60_000;
/** How long before expiry the alarm refreshes (at most half the token's lifetime). */
export const PROACTIVE_LEAD_MS = 6 * 60_000;
/** After a failure that may pass, neither injections nor the alarm call again sooner than this. */
export const FAILURE_BACKOFF_MS = 30_000;
const JUST_REFRESHED_MS = 10_000;

export type AccessCode = "oauth_not_connected" | "oauth_refresh_failed";
export type AccessResult = { ok: true; accessToken: string; expiresAt: string | null } | { ok: false; code: AccessCode; message: string };

export interface AccessRequest extends OAuthTarget {
  by: AuditBy;
  /**
   * The access token an upstream just refused (401): refresh unless the credential already
   * holds another one (then that one is the answer, so concurrent 401s cause one refresh).
   */
  rejectedToken?: string;
}

export class OAuthRefresher extends DurableObject<Env> {
  private chain: Promise<unknown> = Promise.resolve();
  private lastFailureAt = 0;
  private tracked: string | undefined;
  /**
   * The current access token, kept in memory between requests so the warm path reads no D1.
   * Safe because every change of the credential's token passes here: refreshes are made here,
   * and a connect or paste calls `connected` (which forgets it). A deleted KEY is never asked
   * for (the proxy's cache and task resolution check the store first).
   */
  private memo: { tokenId: string; accessToken: string; expiresAt: string | null } | undefined;

  /** The credential's current access token, refreshed first when due. */
  access(req: AccessRequest): Promise<AccessResult> {
    return this.serialized(() => this.accessNow(req));
  }

  /** A connection was stored (connect or paste): forget failures and plan the proactive refresh. */
  async connected(target: OAuthTarget): Promise<void> {
    await this.serialized(async () => {
      this.lastFailureAt = 0;
      this.memo = undefined;
      await this.track(target);
      const row = await loadById(this.env, target.teamId, target.tokenId);
      if (row) await this.schedule(row);
    });
  }

  override async alarm(): Promise<void> {
    const target = await this.ctx.storage.get<OAuthTarget>("target");
    if (!target) return;
    await this.serialized(async () => {
      const row = await loadById(this.env, target.teamId, target.tokenId);
      // Deleted, no longer OAuth, or waiting for a reconnect: nothing to keep fresh.
      if (!row || row.needs_reconnect) return;
      const expires = row.expires_at ? Date.parse(row.expires_at) : null;
      if (expires === null) return;
      if (expires - Date.now() > leadFor(row)) return this.schedule(row);
      const by = { actor: OAUTH_REFRESH_ACTOR, requestId: newId.request() };
      const result = await this.refresh(target, row, by);
      if (!result.ok) {
        const after = await loadById(this.env, target.teamId, target.tokenId);
        if (after && !after.needs_reconnect) await this.ctx.storage.setAlarm(Date.now() + FAILURE_BACKOFF_MS);
      }
    });
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async track(target: OAuthTarget): Promise<void> {
    if (this.tracked === target.tokenId) return;
    await this.ctx.storage.put("target", { teamId: target.teamId, keySalt: target.keySalt, tokenId: target.tokenId });
    this.tracked = target.tokenId;
  }

  private async accessNow(req: AccessRequest): Promise<AccessResult> {
    const target: OAuthTarget = { teamId: req.teamId, keySalt: req.keySalt, tokenId: req.tokenId };
    const memo = this.memo;
    if (memo && memo.tokenId === req.tokenId && req.rejectedToken !== memo.accessToken && (memo.expiresAt === null || Date.parse(memo.expiresAt) - Date.now() > REFRESH_WINDOW_MS)) {
      return { ok: true, accessToken: memo.accessToken, expiresAt: memo.expiresAt };
    }
    this.memo = undefined;
    const row = await loadById(this.env, req.teamId, req.tokenId);
    if (!row) return notConnected("the OAuth credential does not exist or is not connected");
    if (row.needs_reconnect) return notConnected("the OAuth credential must be reconnected (its refresh token was refused)");
    await this.track(target);
    const current = await openAccessToken(this.env, target, row);
    const expires = row.expires_at ? Date.parse(row.expires_at) : null;
    const now = Date.now();
    const rejected = req.rejectedToken !== undefined && req.rejectedToken === current;
    // A token refreshed moments ago is not refreshed again (a provider issuing short-lived tokens
    // would otherwise be called by every request of the window).
    const justRefreshed = row.last_refreshed_at !== null && now - Date.parse(row.last_refreshed_at) < JUST_REFRESHED_MS && (expires === null || expires > now);
    const due = rejected || (!justRefreshed && expires !== null && expires - now <= REFRESH_WINDOW_MS);
    if (!due) {
      this.memo = { tokenId: row.token_id, accessToken: current, expiresAt: row.expires_at };
      return { ok: true, accessToken: current, expiresAt: row.expires_at };
    }
    const stillValid = !rejected && (expires === null || expires > now);
    // A failure moments ago: serve what is still valid rather than hammer the provider.
    if (stillValid && now - this.lastFailureAt < FAILURE_BACKOFF_MS) return { ok: true, accessToken: current, expiresAt: row.expires_at };
    const refreshed = await this.refresh(target, row, req.by);
    if (refreshed.ok || refreshed.code === "oauth_not_connected") return refreshed;
    return stillValid ? { ok: true, accessToken: current, expiresAt: row.expires_at } : refreshed;
  }

  private async refresh(target: OAuthTarget, row: OAuthRow, by: AuditBy): Promise<AccessResult> {
    const { client, refreshToken } = await openClient(this.env, target, row);
    if (!refreshToken || !client) {
      const expired = row.expires_at !== null && Date.parse(row.expires_at) <= Date.now();
      return expired ? notConnected("the OAuth access token expired and there is no refresh token: connect again") : { ok: true, accessToken: await openAccessToken(this.env, target, row), expiresAt: row.expires_at };
    }
    const outcome = await requestTokens(this.env, client, { type: "refresh_token", refreshToken });
    if (!outcome.ok) {
      this.lastFailureAt = Date.now();
      const error = outcome.description ? `${outcome.error}: ${outcome.description}` : outcome.error;
      const reconnect = outcome.kind === "invalid_grant";
      await storeRefreshFailure(this.env, target, row, error, reconnect, by);
      log.warn("oauth_refresh_failed", { tokenId: row.token_id, teamId: row.team_id, error: outcome.error, needsReconnect: reconnect, requestId: by.requestId });
      return { ok: false, code: "oauth_refresh_failed", message: `OAuth token refresh failed: ${error}` };
    }
    const stored = await storeRefreshed(this.env, target, row, outcome.tokens, by);
    if (!stored.written) {
      // Reconnected or pasted meanwhile: that newer connection is the answer.
      const after = await loadById(this.env, target.teamId, target.tokenId);
      if (!after || after.needs_reconnect) return notConnected("the OAuth credential changed while it was refreshed");
      return { ok: true, accessToken: await openAccessToken(this.env, target, after), expiresAt: after.expires_at };
    }
    this.lastFailureAt = 0;
    this.memo = { tokenId: row.token_id, accessToken: outcome.tokens.accessToken, expiresAt: stored.expiresAt };
    const fresh = await loadById(this.env, target.teamId, target.tokenId);
    if (fresh) await this.schedule(fresh);
    return { ok: true, accessToken: outcome.tokens.accessToken, expiresAt: stored.expiresAt };
  }

  /** Plans the proactive refresh: `leadFor` before expiry, for credentials that can refresh. */
  private async schedule(row: OAuthRow): Promise<void> {
    if (!row.expires_at || row.needs_reconnect || !row.sealed.includes("refreshToken")) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    const at = Math.max(Date.parse(row.expires_at) - leadFor(row), Date.now() + 1_000);
    await this.ctx.storage.setAlarm(at);
  }
}

/** The proactive lead: PROACTIVE_LEAD_MS, or half the token's lifetime when that is shorter. */
function leadFor(row: OAuthRow): number {
  if (!row.expires_at) return PROACTIVE_LEAD_MS;
  const issued = Date.parse(row.last_refreshed_at ?? row.connected_at);
  const lifetime = Date.parse(row.expires_at) - issued;
  return Math.max(0, Math.min(PROACTIVE_LEAD_MS, lifetime / 2));
}

function notConnected(message: string): AccessResult {
  return { ok: false, code: "oauth_not_connected", message };
}

/** The credential's refresher (one object per credential id). */
export function refresherFor(env: Pick<Env, "OAUTH_REFRESHER">, tokenId: string) {
  return env.OAUTH_REFRESHER.get(env.OAUTH_REFRESHER.idFromName(tokenId));
}
