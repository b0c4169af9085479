import type { ContextTeam } from "../context";
import { OAUTH_REFRESH_ACTOR, teamKeyMaterial } from "../context";
import { newId } from "../ids";
import { oauthInjectionValue } from "../oauth/inject";
import type { AuditBy } from "../oauth/store";
import type { Env } from "../env";
import { AppError } from "../errors";
import { openSecret } from "../vault/cipher";
import { getKeyring } from "../vault/keyring";
import { isExpired, versionLabel } from "../vault/store";
import type { SealedCredential } from "./cache";

/**
 * The one place the proxy turns a KEY into the value it injects, at request time, in memory.
 * The store's rules apply: an expired credential is refused (502 `credential_expired`, the
 * vault's side failed, not the agent's request). The value is dropped by the caller as soon as
 * the outbound headers are built.
 *
 * Seam for other credential types: an OAuth credential (type `oauth`) answers its current
 * access token here (refreshing it when due) and may be asked again after an upstream 401.
 */
export async function credentialValue(env: Env, team: ContextTeam, credential: SealedCredential, now = Date.now(), oauth?: { by: AuditBy; rejectedToken?: string }): Promise<string> {
  if (isExpired(credential.expiresAt, now)) {
    throw new AppError("credential_expired", `The credential ${credential.key} is past its expiry`, { key: credential.key });
  }
  // Its current access token, refreshed first when due (502 oauth_* when there is none).
  if (credential.type === "oauth") return oauthInjectionValue(env, team, credential.id, oauth?.by ?? { actor: OAUTH_REFRESH_ACTOR, requestId: newId.request() }, oauth?.rejectedToken);
  const keyring = await getKeyring(env);
  return openSecret(keyring, teamKeyMaterial(team), versionLabel(credential.id, credential.version), {
    ciphertext: credential.ciphertext,
    iv: credential.iv,
    keyVersion: credential.keyVersion,
  });
}
