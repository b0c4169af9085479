import { env, SELF } from "cloudflare:test";
import type { ApiKeyContext } from "../../src/context";
import { startConnect } from "../../src/oauth/connect";

/** A fresh fake OAuth provider (test/fakes/oauth-provider.ts) for one test. */
export function oauthProvider(config: Record<string, unknown> = {}) {
  const ns = crypto.randomUUID();
  const base = `${env.UPSTREAM_URL}/oauth/${ns}`;
  return {
    ns,
    authorizationUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    apiUrl: `${base}/api`,
    configure: async (patch: Record<string, unknown>) => {
      await fetch(`${env.UPSTREAM_URL}/__oauth/${ns}/config`, { method: "POST", body: JSON.stringify(patch) });
    },
    stats: async (): Promise<{ tokenCalls: number; codeCalls: number; refreshCalls: number; clientAuth: string[]; grants: string[]; issued: string[] }> =>
      (await fetch(`${env.UPSTREAM_URL}/__oauth/${ns}/stats`)).json(),
    expireAccessTokens: async () => {
      await fetch(`${env.UPSTREAM_URL}/__oauth/${ns}/expire`, { method: "POST" });
    },
    mintRefreshToken: async (): Promise<string> => ((await (await fetch(`${env.UPSTREAM_URL}/__oauth-mint/${ns}`)).json()) as { refresh_token: string }).refresh_token,
    ready: fetch(`${env.UPSTREAM_URL}/__oauth/${ns}/config`, { method: "POST", body: JSON.stringify(config) }),
  };
}
export type Provider = ReturnType<typeof oauthProvider>;

export const CLIENT_SECRET = `cs-canary-${crypto.randomUUID()}`;

/**
 * The browser's part of the connect flow: visit the authorization URL (the fake provider
 * redirects back with a code), then the vault's callback, following redirects by hand. Returns
 * the completion page's URL and HTML.
 */
export async function followConnect(authorizationUrl: string): Promise<{ complete: URL; html: string; callbackStatus: number }> {
  const consent = await fetch(authorizationUrl, { redirect: "manual" });
  const back = consent.headers.get("location");
  if (consent.status !== 302 || !back) throw new Error(`authorize answered ${consent.status} ${await consent.text()}`);
  await consent.body?.cancel();
  const callback = await SELF.fetch(back, { redirect: "manual" });
  const location = callback.headers.get("location");
  if (!location) throw new Error(`callback answered ${callback.status} without Location`);
  await callback.body?.cancel();
  const complete = new URL(location);
  const page = await SELF.fetch(complete.toString());
  return { complete, html: await page.text(), callbackStatus: callback.status };
}

/** Connects KEY through the engine (the routes come with the vault routes) and the browser flow. */
export async function connect(ctx: ApiKeyContext, provider: Provider, key: string, extra: { client_secret?: string; token_auth_method?: "client_secret_post" | "client_secret_basic" } = {}) {
  await provider.ready;
  const started = await startConnect(ctx, key, { authorization_url: provider.authorizationUrl, token_url: provider.tokenUrl, client_id: "client-1", scopes: "read write", ...extra }, "https://vault.test");
  return { started, ...(await followConnect(started.authorizationUrl)) };
}
