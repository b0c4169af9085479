/**
 * The one check that binds a connect flow to the user who started it, at the callback (which
 * carries no API credentials: the browser arrives from the provider). The state itself is the
 * capability; on top of it, when the browser shows a portal session naming a user, that user
 * must be the one who started. The portal defines its session cookie: `cookieUser` is the user
 * id it verified from the request, or undefined when there is no portal session.
 */
export type BindingVerdict = { ok: true } | { ok: false; reason: "wrong_user" };

export function checkStateUser(startedBy: string | null, cookieUser: string | undefined): BindingVerdict {
  if (cookieUser === undefined) return { ok: true };
  // A flow started by an API key (no user) is not completed in another user's browser session either.
  return startedBy !== null && startedBy === cookieUser ? { ok: true } : { ok: false, reason: "wrong_user" };
}

/**
 * The user named by the portal's session cookie on this request. Until the portal's cookie
 * exists (issue 13 defines it) no request carries one: wire its verification here, in one place.
 */
export async function portalSessionUser(request: Request): Promise<string | undefined> {
  void request;
  return undefined;
}
