import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type TeamContext } from "../context";
import { AppError } from "../errors";
import { newId } from "../ids";
import { sealSecret } from "./cipher";
import { parseAllowedHosts } from "./hosts";
import { getKeyring } from "./keyring";
import { parseJsonObject, parseTtl, versionLabel } from "./store";
import { eraseVersionsStatement, writeNewVersion } from "./versions";

/**
 * Credentials (seed 004): the store's rows of kind `credential`, named uniquely per team, with
 * a type, free metadata, a lease policy, and versions (rotation). Any API key of the team with
 * the secrets scopes manages them; values leave the vault only through leases (leases.ts) or
 * by tok_ reference in tasks.
 */
export const DEFAULT_LEASE_TTL_SECONDS = 3600;
export const DEFAULT_MAX_LEASE_TTL_SECONDS = 24 * 3600;

export interface Policy {
  defaultLeaseTTL?: string | number | undefined;
  maxLeaseTTL?: string | number | undefined;
  maxLeases?: number | undefined;
}

export interface CredentialRow {
  id: string;
  team_id: string;
  name: string;
  type: string;
  metadata: string;
  policy: string;
  allowed_hosts: string | null;
  current_version: number;
  expires_at: string | null;
  created_at: string;
  updated_at: string | null;
  revoked_at: string | null;
}

export const CREDENTIAL_COLUMNS = "id, team_id, name, type, metadata, policy, allowed_hosts, current_version, expires_at, created_at, updated_at, revoked_at";

/** The policy in seconds, defaults applied: what leases are computed from. */
export function effectivePolicy(stored: string) {
  const policy = parseJsonObject(stored) as Policy;
  const maxTtl = policy.maxLeaseTTL !== undefined ? parseTtl(policy.maxLeaseTTL) ?? DEFAULT_MAX_LEASE_TTL_SECONDS : DEFAULT_MAX_LEASE_TTL_SECONDS;
  const defaultTtl = Math.min(policy.defaultLeaseTTL !== undefined ? parseTtl(policy.defaultLeaseTTL) ?? DEFAULT_LEASE_TTL_SECONDS : DEFAULT_LEASE_TTL_SECONDS, maxTtl);
  return { defaultTtl, maxTtl, maxLeases: typeof policy.maxLeases === "number" ? policy.maxLeases : null, declared: policy };
}

/** Validates a policy as given (TTL syntax, default within max); stored as given. */
export function checkPolicy(policy: Policy | undefined): void {
  if (!policy) return;
  const bad = (field: string, message: string) => new AppError("validation_failed", "Invalid request body", { issues: [{ path: `policy.${field}`, message }] });
  const def = policy.defaultLeaseTTL !== undefined ? parseTtl(policy.defaultLeaseTTL) : undefined;
  const max = policy.maxLeaseTTL !== undefined ? parseTtl(policy.maxLeaseTTL) : undefined;
  if (policy.defaultLeaseTTL !== undefined && def === undefined) throw bad("defaultLeaseTTL", 'must be a duration like "90s", "15m", "4h", "7d" or a number of seconds');
  if (policy.maxLeaseTTL !== undefined && max === undefined) throw bad("maxLeaseTTL", 'must be a duration like "90s", "15m", "4h", "7d" or a number of seconds');
  if (def !== undefined && max !== undefined && def > max) throw bad("defaultLeaseTTL", "must not exceed maxLeaseTTL");
}

/** Seed 004: when metadata names the key's prefix, a value without it is the wrong key. */
export function checkPrefix(metadata: Record<string, unknown>, value: string): void {
  const prefix = metadata.prefix;
  if (typeof prefix === "string" && prefix !== "" && !value.startsWith(prefix)) {
    throw new AppError("value_prefix_mismatch", `value does not start with metadata.prefix "${prefix}" (is it the right key?)`, { field: "value", prefix });
  }
}

const rotatedAt = (row: CredentialRow) => row.updated_at ?? row.created_at;

/** Seed 004's metadata.rotateEvery ("90d"): due when the current version is that old. */
export function rotationDue(row: CredentialRow, now = Date.now()): boolean {
  const every = parseJsonObject(row.metadata).rotateEvery;
  const seconds = typeof every === "string" || typeof every === "number" ? parseTtl(every) : undefined;
  return seconds !== undefined && now - Date.parse(rotatedAt(row)) >= seconds * 1000;
}

export function credentialView(row: CredentialRow) {
  const policy = effectivePolicy(row.policy);
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    metadata: parseJsonObject(row.metadata),
    policy: { ...policy.declared },
    effectivePolicy: { defaultLeaseTTLSeconds: policy.defaultTtl, maxLeaseTTLSeconds: policy.maxTtl, maxLeases: policy.maxLeases },
    allowedHosts: parseAllowedHosts(row.allowed_hosts),
    currentVersion: row.current_version,
    state: row.revoked_at ? "deleted" : "active",
    rotationDue: rotationDue(row),
    createdAt: row.created_at,
    currentVersionCreatedAt: rotatedAt(row),
    ...(row.revoked_at ? { deletedAt: row.revoked_at } : {}),
  };
}
export type CredentialView = ReturnType<typeof credentialView>;

export interface NewCredential {
  name: string;
  type: "api-key";
  value: string;
  metadata?: Record<string, unknown> | undefined;
  policy?: Policy | undefined;
  allowedHosts?: string[] | undefined;
}

export async function createCredential(ctx: TeamContext, input: NewCredential): Promise<CredentialView> {
  const { env, team } = ctx;
  const metadata = input.metadata ?? {};
  checkPrefix(metadata, input.value);
  checkPolicy(input.policy);
  const id = newId.token();
  const keyring = await getKeyring(env);
  const sealed = await sealSecret(keyring, teamKeyMaterial(team), versionLabel(id, 1), input.value);
  const at = new Date().toISOString();
  const row: CredentialRow = {
    id,
    team_id: team.id,
    name: input.name,
    type: input.type,
    metadata: JSON.stringify(metadata),
    policy: JSON.stringify(input.policy ?? {}),
    allowed_hosts: input.allowedHosts ? JSON.stringify(input.allowedHosts) : null,
    current_version: 1,
    expires_at: null,
    created_at: at,
    updated_at: null,
    revoked_at: null,
  };
  try {
    await env.DB.batch([
      env.DB
        .prepare(
          `INSERT INTO tokens (id, team_id, name, ciphertext, iv, key_version, created_at, kind, type, owner_type, created_by_key_id, metadata, policy, allowed_hosts)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'credential', ?, 'team', ?, ?, ?, ?)`,
        )
        .bind(id, team.id, input.name, sealed.ciphertext, sealed.iv, sealed.keyVersion, at, input.type, ctx.actor.type === "api_key" ? ctx.actor.id : null, row.metadata, row.policy, row.allowed_hosts),
      auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "credential.created", targetType: "credential", targetId: id, requestId: ctx.requestId, metadata: { name: input.name, type: input.type, version: 1 } }, at),
    ]);
  } catch (error) {
    if (/UNIQUE/i.test(String(error))) throw new AppError("name_taken", `A credential named "${input.name}" already exists`);
    throw error;
  }
  return credentialView(row);
}

/** 404 for no such name in the caller's team (names are per team: another team's are not visible). */
export async function getCredential(ctx: TeamContext, name: string): Promise<CredentialRow> {
  const row = await ctx.env.DB
    .prepare(`SELECT ${CREDENTIAL_COLUMNS} FROM tokens WHERE team_id = ? AND kind = 'credential' AND name = ? AND revoked_at IS NULL`)
    .bind(ctx.team.id, name)
    .first<CredentialRow>();
  if (!row) throw new AppError("not_found", "Credential not found");
  return row;
}

export async function listCredentials(ctx: TeamContext, filters: { service?: string | undefined; environment?: string | undefined; type?: string | undefined; rotationDue?: boolean | undefined }) {
  const conditions = ["team_id = ?", "kind = 'credential'", "revoked_at IS NULL"];
  const args: string[] = [ctx.team.id];
  if (filters.service !== undefined) conditions.push("json_extract(metadata, '$.service') = ?"), args.push(filters.service);
  if (filters.environment !== undefined) conditions.push("json_extract(metadata, '$.environment') = ?"), args.push(filters.environment);
  if (filters.type !== undefined) conditions.push("type = ?"), args.push(filters.type);
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${CREDENTIAL_COLUMNS} FROM tokens WHERE ${conditions.join(" AND ")} ORDER BY name LIMIT 1000`)
    .bind(...args)
    .all<CredentialRow>();
  const rows = filters.rotationDue === undefined ? results : results.filter((r) => rotationDue(r) === filters.rotationDue);
  return { credentials: rows.map(credentialView) };
}

export interface CredentialPatch {
  metadata?: Record<string, unknown> | undefined;
  policy?: Policy | undefined;
  allowedHosts?: string[] | null | undefined;
}

export async function updateCredential(ctx: TeamContext, name: string, patch: CredentialPatch): Promise<CredentialView> {
  const { env, team } = ctx;
  const row = await getCredential(ctx, name);
  checkPolicy(patch.policy);
  const sets: string[] = [];
  const args: (string | null)[] = [];
  if (patch.metadata !== undefined) sets.push("metadata = ?"), args.push(JSON.stringify(patch.metadata));
  if (patch.policy !== undefined) sets.push("policy = ?"), args.push(JSON.stringify(patch.policy));
  if (patch.allowedHosts !== undefined) sets.push("allowed_hosts = ?"), args.push(patch.allowedHosts === null ? null : JSON.stringify(patch.allowedHosts));
  if (sets.length === 0) return credentialView(row);
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare(`UPDATE tokens SET ${sets.join(", ")} WHERE id = ? AND team_id = ? AND revoked_at IS NULL`).bind(...args, row.id, team.id),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "credential.updated",
      targetType: "credential",
      targetId: row.id,
      requestId: ctx.requestId,
      metadata: { name, fields: Object.keys(patch).filter((k) => patch[k as keyof CredentialPatch] !== undefined).join(",") },
    }, at, { onlyIfChanged: true }),
  ]);
  return credentialView(await getCredential(ctx, name));
}

/**
 * Deletes for good: the row and every version lose their ciphertext and every active lease is
 * revoked, in one batch.
 */
export async function deleteCredential(ctx: TeamContext, name: string): Promise<CredentialView> {
  const { env, team } = ctx;
  const row = await getCredential(ctx, name);
  const at = new Date().toISOString();
  await env.DB.batch([
    env.DB.prepare("UPDATE tokens SET revoked_at = ?, ciphertext = '', iv = '' WHERE id = ? AND team_id = ? AND revoked_at IS NULL").bind(at, row.id, team.id),
    auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "credential.deleted", targetType: "credential", targetId: row.id, requestId: ctx.requestId, metadata: { name } }, at, { onlyIfChanged: true }),
    eraseVersionsStatement(env, row.id, at),
    env.DB.prepare("UPDATE leases SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL AND expires_at > ?").bind(at, row.id, at),
  ]);
  return credentialView({ ...row, revoked_at: at });
}

/**
 * A new current version. The previous one is `rotated`: leases issued on it and tasks created
 * while it was current keep it until they end (or, with a grace period, until that ends), then
 * it is retired and erased (versions.ts).
 */
export async function rotateCredential(ctx: TeamContext, name: string, input: { newValue: string; gracePeriod?: string | number | undefined }) {
  const row = await getCredential(ctx, name);
  checkPrefix(parseJsonObject(row.metadata), input.newValue);
  let graceUntil: string | null = null;
  if (input.gracePeriod !== undefined) {
    const seconds = parseTtl(input.gracePeriod);
    if (seconds === undefined) {
      throw new AppError("validation_failed", "Invalid request body", { issues: [{ path: "gracePeriod", message: 'must be a duration like "90s", "15m", "4h", "7d" or a number of seconds' }] });
    }
    graceUntil = new Date(Date.now() + seconds * 1000).toISOString();
  }
  const written = await writeNewVersion(ctx, {
    tokenId: row.id,
    fromVersion: row.current_version,
    value: input.newValue,
    graceUntil,
    audit: { action: "credential.rotated", targetType: "credential", metadata: { name } },
  });
  if (!written) throw new AppError("version_conflict");
  const after = await getCredential(ctx, name);
  const previous = await ctx.env.DB
    .prepare("SELECT version, state, grace_until FROM credential_versions WHERE token_id = ? AND version = ?")
    .bind(row.id, row.current_version)
    .first<{ version: number; state: string; grace_until: string | null }>();
  return {
    credential: credentialView(after),
    previousVersion: { version: row.current_version, state: previous?.state ?? "retired", graceUntil: previous?.grace_until ?? null },
  };
}
