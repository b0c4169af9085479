import { auditStatement } from "../audit/audit";
import { createContext, SWEEPER_ACTOR } from "../context";
import type { Env } from "../env";
import { newId } from "../ids";
import { log } from "../log";
import { retireIdleVersions } from "./versions";

/**
 * The store's part of the cron trigger: records each expiry once (named secrets past their
 * `expiresAt`: `vault.secret.expired`; leases past theirs: `lease.expired`), and retires
 * rotated versions nothing holds any more. Every record is a guarded UPDATE with its audit row
 * in the same batch, so two overlapping sweeps record nothing twice.
 */
const BATCH = 100;

export async function sweepVault(env: Env, now = Date.now()): Promise<{ secretsExpired: number; leasesExpired: number; versionsRetired: number }> {
  const ctx = createContext({ env, requestId: newId.request(), actor: SWEEPER_ACTOR });
  const at = new Date(now).toISOString();
  const [secrets, leases] = await env.DB.batch<{ id: string; team_id: string; name: string; version?: number; identity_name?: string }>([
    env.DB.prepare("SELECT id, team_id, name FROM tokens WHERE kind = 'secret' AND revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ? AND expiry_noted_at IS NULL LIMIT ?").bind(at, BATCH),
    env.DB
      .prepare("SELECT l.id, l.team_id, t.name, l.version, l.identity_name FROM leases l JOIN tokens t ON t.id = l.token_id WHERE l.revoked_at IS NULL AND l.expires_at <= ? AND l.ended_noted_at IS NULL LIMIT ?")
      .bind(at, BATCH),
  ]);
  const statements: D1PreparedStatement[] = [];
  for (const s of secrets?.results ?? []) {
    statements.push(
      env.DB.prepare("UPDATE tokens SET expiry_noted_at = ? WHERE id = ? AND expiry_noted_at IS NULL").bind(at, s.id),
      auditStatement(env.DB, { teamId: s.team_id, actor: ctx.actor, action: "vault.secret.expired", targetType: "secret", targetId: s.id, requestId: ctx.requestId, metadata: { name: s.name } }, at, { onlyIfChanged: true }),
    );
  }
  for (const l of leases?.results ?? []) {
    statements.push(
      env.DB.prepare("UPDATE leases SET ended_noted_at = ? WHERE id = ? AND ended_noted_at IS NULL").bind(at, l.id),
      auditStatement(env.DB, {
        teamId: l.team_id,
        actor: ctx.actor,
        action: "lease.expired",
        targetType: "lease",
        targetId: l.id,
        requestId: ctx.requestId,
        metadata: { credentialName: l.name, version: l.version ?? null, identity: l.identity_name ?? null },
      }, at, { onlyIfChanged: true }),
    );
  }
  const done = statements.length > 0 ? await env.DB.batch(statements) : [];
  const secretRows = 2 * (secrets?.results.length ?? 0);
  const changed = (from: number, to: number) => done.slice(from, to).filter((r, i) => i % 2 === 0 && r.meta.changes > 0).length;
  const versionsRetired = await retireIdleVersions(ctx);
  const result = { secretsExpired: changed(0, secretRows), leasesExpired: changed(secretRows, done.length), versionsRetired };
  if (result.secretsExpired + result.leasesExpired + versionsRetired > 0) log.info("vault_swept", result);
  return result;
}
