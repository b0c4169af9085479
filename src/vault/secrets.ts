import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type KeyOrUserContext, type TeamContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { openSecret, sealSecret } from "./cipher";
import { getKeyring } from "./keyring";
import { isExpired, parseJsonArray, versionLabel } from "./store";
import { eraseVersionsStatement, writeNewVersion } from "./versions";

/**
 * Named secrets (seed 001): the store's rows of kind `secret`, addressed by a name unique in
 * the owner's namespace. Created with an API key: app-level, readable by the keys it is
 * assigned to (its creator first). Created with a user session: user-level, that user only.
 * API keys never see user-level secrets; users never see app-level ones.
 */
interface SecretRow {
  id: string;
  name: string;
  owner_type: "app" | "user";
  scope_labels: string;
  expires_at: string | null;
  created_at: string;
  current_version: number;
  ciphertext: string;
  iv: string;
  key_version: number;
}

/**
 * Whose secrets a call acts on: the caller's (an API key's assigned app-level secrets, a user's
 * own user-level ones), or, for a user managing the team's shared secrets in the portal, every
 * app-level secret of the team. `app` by a user is for team admins: the caller checks the role
 * (teams/members.ts requireRole) before calling, as the API's routes do for API keys.
 */
export type SecretOwner = "caller" | "app";

/** The owner clause for the caller (alias `t`): its assigned app-level secrets, or the user's own. */
function ownedBy(ctx: KeyOrUserContext, owner: SecretOwner = "caller"): { sql: string; args: string[] } {
  if (owner === "app" && ctx.actor.type === "user") return { sql: "t.owner_type = 'app'", args: [] };
  return ctx.actor.type === "api_key"
    ? { sql: "t.owner_type = 'app' AND EXISTS (SELECT 1 FROM secret_assignments a WHERE a.token_id = t.id AND a.api_key_id = ?)", args: [ctx.actor.id] }
    : { sql: "t.owner_type = 'user' AND t.owner_user_id = ?", args: [ctx.actor.id] };
}

const COLUMNS = "t.id, t.name, t.owner_type, t.scope_labels, t.expires_at, t.created_at, t.current_version, t.ciphertext, t.iv, t.key_version";

async function findOwned(ctx: KeyOrUserContext, name: string, as: SecretOwner = "caller"): Promise<SecretRow | null> {
  const owner = ownedBy(ctx, as);
  return ctx.env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens t WHERE t.team_id = ? AND t.kind = 'secret' AND t.revoked_at IS NULL AND t.name = ? AND ${owner.sql}`)
    .bind(ctx.team.id, name, ...owner.args)
    .first<SecretRow>();
}

const notFound = () => new AppError("not_found", "Secret not found");

export interface SecretInput {
  name: string;
  value: string;
  scope?: string[] | undefined;
  expiresAt?: string | undefined;
  allowedHosts?: string[] | undefined;
}

/**
 * Upsert by name (seed 001): a new secret is created; an existing one gets a new version (the
 * previous one is rotated and retired once no unfinished task holds it), with its scope and
 * expiry replaced by the request's. An app-level name held by a secret this key is not
 * assigned to is refused (409), never overwritten.
 */
export async function upsertSecret(ctx: KeyOrUserContext, input: SecretInput, as: SecretOwner = "caller"): Promise<{ action: "created" | "updated"; id: string }> {
  const { env, team } = ctx;
  const labels = JSON.stringify([...new Set(input.scope ?? [])]);
  const expiresAt = input.expiresAt ? new Date(input.expiresAt).toISOString() : null;
  const allowedHosts = input.allowedHosts ? JSON.stringify(input.allowedHosts) : null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await findOwned(ctx, input.name, as);
    if (existing) {
      const written = await writeNewVersion(ctx, {
        tokenId: existing.id,
        fromVersion: existing.current_version,
        value: input.value,
        graceUntil: null,
        set: { scope_labels: labels, expires_at: expiresAt, expiry_noted_at: null, allowed_hosts: allowedHosts },
        audit: { action: "vault.secret.updated", targetType: "secret", metadata: { name: input.name } },
      });
      if (written) return { action: "updated", id: existing.id };
      continue;
    }
    const id = newId.token();
    const keyring = await getKeyring(env);
    const sealed = await sealSecret(keyring, teamKeyMaterial(team), versionLabel(id, 1), input.value);
    const at = new Date().toISOString();
    const isKey = ctx.actor.type === "api_key";
    // App-level: made by a key (assigned to it), or by a team admin for the team's keys (assigned later).
    const isApp = isKey || as === "app";
    const ownerUserId = isApp ? null : ctx.actor.id;
    try {
      await env.DB.batch([
        env.DB
          .prepare(
            `INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind, type, owner_type, owner_user_id, created_by_key_id, scope_labels, expires_at, allowed_hosts)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'secret', 'static', ?, ?, ?, ?, ?, ?)`,
          )
          .bind(id, team.id, input.name, sealed.ciphertext, sealed.iv, sealed.keyVersion, at, isApp ? "app" : "user", ownerUserId, isKey ? ctx.actor.id : null, labels, expiresAt, allowedHosts),
        ...(isKey ? [env.DB.prepare("INSERT INTO secret_assignments (token_id, api_key_id, team_id, created_at) VALUES (?, ?, ?, ?)").bind(id, ctx.actor.id, team.id, at)] : []),
        auditStatement(env.DB, {
          teamId: team.id,
          actor: ctx.actor,
          action: "vault.secret.created",
          targetType: "secret",
          targetId: id,
          requestId: ctx.requestId,
          metadata: { name: input.name, owner: isApp ? "app" : "user", scope: labels, expiresAt },
        }, at),
      ]);
      return { action: "created", id };
    } catch (error) {
      if (!/UNIQUE/i.test(String(error))) throw error;
      // The name exists: either a concurrent create (loop and update it) or a secret of the
      // team this key is not assigned to.
      if (isKey && !(await findOwned(ctx, input.name, as))) {
        throw new AppError("name_taken", "A secret with this name exists and is not assigned to this API key");
      }
    }
  }
  throw new AppError("version_conflict");
}

const labelsOk = (ctx: KeyOrUserContext, row: SecretRow) =>
  ctx.actor.type === "user" || parseJsonArray(row.scope_labels).every((label) => ctx.keyLabels.includes(label));

/**
 * Runtime retrieval: one D1 batch reads the secret and writes `vault.secret.retrieved`, the
 * audit row conditional on exactly the checks made here (owner, labels, not expired), so a
 * refused read audits nothing.
 */
export async function revealSecret(ctx: KeyOrUserContext, name: string) {
  const { env, team } = ctx;
  const owner = ownedBy(ctx);
  const now = new Date().toISOString();
  const where = `t.team_id = ? AND t.kind = 'secret' AND t.revoked_at IS NULL AND t.name = ? AND ${owner.sql}`;
  const args = [team.id, name, ...owner.args];
  const labelsCheck = ctx.actor.type === "user" ? "" : " AND NOT EXISTS (SELECT 1 FROM json_each(t.scope_labels) j WHERE j.value NOT IN (SELECT value FROM json_each(?)))";
  const labelArgs = ctx.actor.type === "user" ? [] : [JSON.stringify(ctx.keyLabels)];
  const [read] = await env.DB.batch<SecretRow>([
    env.DB.prepare(`SELECT ${COLUMNS} FROM tokens t WHERE ${where}`).bind(...args),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "vault.secret.retrieved",
      targetType: "secret",
      targetId: "",
      requestId: ctx.requestId,
      metadata: { name },
    }, now, { targetFrom: { sql: `SELECT t.id FROM tokens t WHERE ${where}`, args }, onlyIf: { sql: `EXISTS (SELECT 1 FROM tokens t WHERE ${where} AND (t.expires_at IS NULL OR t.expires_at > ?)${labelsCheck})`, args: [...args, now, ...labelArgs] } }),
  ]);
  const row = read?.results[0];
  if (!row) throw notFound();
  if (!labelsOk(ctx, row)) {
    throw new AppError("access_denied", "This API key lacks the secret's scope labels", { requiredLabels: parseJsonArray(row.scope_labels) });
  }
  if (isExpired(row.expires_at)) throw new AppError("secret_expired", "Secret expired", { expiresAt: row.expires_at });
  const keyring = await getKeyring(env);
  const value = await openSecret(keyring, teamKeyMaterial(team), versionLabel(row.id, row.current_version), { ciphertext: row.ciphertext, iv: row.iv, keyVersion: row.key_version });
  return { name: row.name, value, scope: parseJsonArray(row.scope_labels), expiresAt: row.expires_at };
}

export async function listSecrets(ctx: KeyOrUserContext) {
  const owner = ownedBy(ctx);
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${COLUMNS} FROM tokens t WHERE t.team_id = ? AND t.kind = 'secret' AND t.revoked_at IS NULL AND ${owner.sql} ORDER BY t.name LIMIT 1000`)
    .bind(ctx.team.id, ...owner.args)
    .all<SecretRow>();
  return {
    secrets: results.map((r) => ({
      name: r.name,
      id: r.id,
      scope: parseJsonArray(r.scope_labels),
      expiresAt: r.expires_at,
      createdAt: r.created_at,
      ...(isExpired(r.expires_at) ? { expired: true } : {}),
    })),
  };
}

/** Deletes for good: the row and every version lose their ciphertext in one batch. */
export async function deleteSecret(ctx: KeyOrUserContext, name: string, as: SecretOwner = "caller") {
  const { env, team } = ctx;
  const row = await findOwned(ctx, name, as);
  if (!row) throw notFound();
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE id = ? AND team_id = ? AND revoked_at IS NULL").bind(at, row.id, team.id),
    auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "vault.secret.deleted", targetType: "secret", targetId: row.id, requestId: ctx.requestId, metadata: { name } }, at, { onlyIfChanged: true }),
    eraseVersionsStatement(env, row.id, at),
  ]);
  return { success: true as const, action: "deleted" as const };
}

/** Grants another API key of the team read access to an app-level secret this key holds. */
export async function assignSecret(ctx: KeyOrUserContext & TeamContext, name: string, apiKeyId: string, assign: boolean, as: SecretOwner = "caller") {
  const { env, team } = ctx;
  const row = await findOwned(ctx, name, as);
  if (!row) throw notFound();
  const key = await env.DB.prepare("SELECT id FROM api_keys WHERE id = ? AND team_id = ? AND revoked_at IS NULL").bind(apiKeyId, team.id).first<{ id: string }>();
  if (!key) throw new AppError("not_found", "API key not found");
  const at = new Date().toISOString();
  await env.DB.batch([
    assign
      ? env.DB.prepare("INSERT OR IGNORE INTO secret_assignments (token_id, api_key_id, team_id, created_at) VALUES (?, ?, ?, ?)").bind(row.id, apiKeyId, team.id, at)
      : env.DB.prepare("DELETE FROM secret_assignments WHERE token_id = ? AND api_key_id = ?").bind(row.id, apiKeyId),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: assign ? "vault.secret.assigned" : "vault.secret.unassigned",
      targetType: "secret",
      targetId: row.id,
      requestId: ctx.requestId,
      metadata: { name, apiKeyId },
    }, at, { onlyIfChanged: true }),
  ]);
  return { success: true as const, action: assign ? ("assigned" as const) : ("unassigned" as const), apiKeyId };
}
