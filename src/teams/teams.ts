import { auditStatement, type Actor } from "../audit/audit";
import { apiKeyView, generateApiKey, insertApiKeyStatement, PlanLimitError, type ApiKeyRow } from "../auth/apikeys";
import { bytesToBase64 } from "../encoding";
import { Errors } from "../http/errors";
import { newId } from "../ids";
import { PLANS, type Plan } from "../plans";

/** Teams (the tenant) and their API keys. */
export interface TeamRow {
  id: string;
  name: string;
  plan: Plan;
  key_salt: string;
  created_at: string;
}

export function teamView(row: TeamRow) {
  return { id: row.id, name: row.name, plan: row.plan, createdAt: row.created_at };
}

export interface Caller {
  actor: Actor;
  requestId: string;
}

/** Creates a team and its first API key; the full key is returned here, once. */
export async function createTeam(db: D1Database, caller: Caller, name: string, plan: Plan) {
  const at = new Date().toISOString();
  const team: TeamRow = {
    id: newId.team(),
    name,
    plan,
    key_salt: bytesToBase64(crypto.getRandomValues(new Uint8Array(32))),
    created_at: at,
  };
  const apiKey = await generateApiKey();
  const keyName = "Default key";
  await db.batch([
    db
      .prepare("INSERT INTO teams (id, name, plan, key_salt, created_at) VALUES (?, ?, ?, ?, ?)")
      .bind(team.id, team.name, team.plan, team.key_salt, team.created_at),
    insertApiKeyStatement(db, team.id, keyName, apiKey, at),
    auditStatement(db, { teamId: team.id, actor: caller.actor, action: "team.created", targetType: "team", targetId: team.id, requestId: caller.requestId, metadata: { plan } }, at),
    auditStatement(db, { teamId: team.id, actor: caller.actor, action: "apikey.created", targetType: "api_key", targetId: apiKey.id, requestId: caller.requestId, metadata: { name: keyName } }, at),
  ]);
  return {
    team: teamView(team),
    apiKey: { id: apiKey.id, name: keyName, prefix: apiKey.prefix, createdAt: at, lastUsedAt: null, revokedAt: null },
    key: apiKey.key,
  };
}

export async function getTeam(db: D1Database, teamId: string): Promise<TeamRow> {
  const row = await db.prepare("SELECT id, name, plan, key_salt, created_at FROM teams WHERE id = ?").bind(teamId).first<TeamRow>();
  if (!row) throw Errors.notFound("Team not found");
  return row;
}

/**
 * Adds an API key within the plan's key limit. The count and the insert are one statement,
 * so two concurrent requests cannot both slip under the limit.
 */
export async function createApiKey(db: D1Database, caller: Caller, teamId: string, name: string) {
  const team = await getTeam(db, teamId);
  const max = PLANS[team.plan].maxApiKeys;
  const apiKey = await generateApiKey();
  const at = new Date().toISOString();
  const [insert] = await db.batch([
    db
      .prepare(
        `INSERT INTO api_keys (id, team_id, name, key_hash, prefix, created_at)
         SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM api_keys WHERE team_id = ? AND revoked_at IS NULL) < ?`,
      )
      .bind(apiKey.id, teamId, name, apiKey.hash, apiKey.prefix, at, teamId, Number.isFinite(max) ? max : Number.MAX_SAFE_INTEGER),
    auditStatement(db, { teamId, actor: caller.actor, action: "apikey.created", targetType: "api_key", targetId: apiKey.id, requestId: caller.requestId, metadata: { name } }, at, { onlyIfChanged: true }),
  ]);
  if (!insert?.meta.changes) throw new PlanLimitError("API keys", max, team.plan);
  return { apiKey: { id: apiKey.id, name, prefix: apiKey.prefix, createdAt: at, lastUsedAt: null, revokedAt: null }, key: apiKey.key };
}

const KEY_COLUMNS = "id, team_id, name, prefix, created_at, last_used_at, revoked_at";

export async function listApiKeys(db: D1Database, teamId: string) {
  const { results } = await db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE team_id = ? ORDER BY id`).bind(teamId).all<ApiKeyRow>();
  return results.map(apiKeyView);
}

/** Revocation is immediate: authentication reads the key row on every request. */
export async function revokeApiKey(db: D1Database, caller: Caller, keyId: string) {
  const row = await db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).bind(keyId).first<ApiKeyRow>();
  if (!row) throw Errors.notFound("API key not found");
  if (!row.revoked_at) {
    const at = new Date().toISOString();
    await db.batch([
      db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").bind(at, keyId),
      auditStatement(db, { teamId: row.team_id, actor: caller.actor, action: "apikey.revoked", targetType: "api_key", targetId: keyId, requestId: caller.requestId }, at, { onlyIfChanged: true }),
    ]);
  }
  const after = await db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`).bind(keyId).first<ApiKeyRow>();
  return apiKeyView(after ?? row);
}
