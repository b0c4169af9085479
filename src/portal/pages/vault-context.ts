import type { VaultContext } from "../../context";
import type { Role } from "../../teams/roles";
import { resolveVault } from "../../teams/vaults";
import type { SignedInRequest } from "../app";

/**
 * The portal user's context for the vault routes' domain functions (credentials by KEY,
 * services, agent tokens, the request log): the team they act for resolved exactly as the API's
 * `vault` auth mode resolves it (http/app.ts), with the same minimum role.
 */
export async function vaultContext(r: SignedInRequest, minRole: Role = "member"): Promise<VaultContext> {
  const vault = await resolveVault(r.ctx, r.ctx.team.id, minRole);
  return { ...r.ctx, team: vault.team, vaultRole: vault.role } as VaultContext;
}
