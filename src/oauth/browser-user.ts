import type { Env } from "../env";
import { portalUserFromRequest } from "../portal/session";

/**
 * The one check that binds a connect flow to the user who started it, at the callback (which
 * carries no API credentials: the browser arrives from the provider). The state itself is the
 * capability; on top of it, when the browser shows a portal session naming a user, that user
 * must be the one who started. The portal defines its session cookie (portal/session.ts):
 * `cookieUser` is the user id verified from it, or undefined when there is no portal session.
 */
export type BindingVerdict = { ok: true } | { ok: false; reason: "wrong_user" };

export function checkStateUser(startedBy: string | null, cookieUser: string | undefined): BindingVerdict {
  // No portal session, or a flow started by an API key (no user to compare: a CLI starts it, a
  // signed-in person finishes it in the browser): the state alone decides.
  if (cookieUser === undefined || startedBy === null) return { ok: true };
  return startedBy === cookieUser ? { ok: true } : { ok: false, reason: "wrong_user" };
}

/** The user the portal's session cookie names on this request (undefined: none, or not a valid session). */
export async function portalSessionUser(request: Request, env: Env): Promise<string | undefined> {
  return (await portalUserFromRequest(request, env))?.userId;
}
