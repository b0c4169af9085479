import type { Env } from "../env";

/**
 * The proxy serves its warm path (the vault's services and the ciphertext of the credentials
 * they name) without a D1 query. Every write that changes what the proxy would inject (a
 * service, a vault credential set, deleted, rotated or revoked, a master-key re-encryption)
 * calls this after its D1 batch succeeds, so the very next proxied request sees the change.
 *
 * Contract between the gateway's writers and the proxy: the proxy fills in the body.
 */
export async function gatewayChanged(env: Env, teamId: string): Promise<void> {
  void env;
  void teamId;
}
