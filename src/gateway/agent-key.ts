import { API_KEY_PREFIX } from "../auth/key-format";

/**
 * Where an agent's vault key may sit on a proxied request: `Proxy-Authorization: Bearer <key>`,
 * `X-Vault-Token: <key>`, or where the upstream's credential goes (an SDK configured with
 * `apiKey = <vault key>` sends `Authorization: Bearer tvk_...`, `x-api-key: tvk_...`, or the
 * header of the service's api-key auth). The vault recognises its own key by its prefix.
 */
const BEARER = /^\s*Bearer\s+(\S+)\s*$/i;
/** A vault key inside a header value: alone, or after a scheme/prefix ("Bearer ", "Token "). */
const KEY_IN_VALUE = new RegExp(`(?:^|[\\s,;:=])(${API_KEY_PREFIX}[0-9A-Za-z]{20,})`);

export function findAgentKey(headers: Headers): string | undefined {
  const proxyAuthorization = headers.get("proxy-authorization");
  if (proxyAuthorization) return BEARER.exec(proxyAuthorization)?.[1] ?? proxyAuthorization.trim();
  const vaultToken = headers.get("x-vault-token")?.trim();
  if (vaultToken) return vaultToken;
  // The places an SDK puts its key first, then any other header (a service's own api-key header).
  for (const name of ["authorization", "x-api-key"]) {
    const found = keyIn(headers.get(name));
    if (found) return found;
  }
  for (const [, value] of headers) {
    const found = keyIn(value);
    if (found) return found;
  }
  return undefined;
}

function keyIn(value: string | null): string | undefined {
  return value ? KEY_IN_VALUE.exec(value)?.[1] : undefined;
}

/** True for a header value that carries a vault key (any, valid or not): it never goes upstream. */
export function carriesVaultKey(value: string, agentKey: string | undefined): boolean {
  return (agentKey !== undefined && value.includes(agentKey)) || KEY_IN_VALUE.test(value);
}
