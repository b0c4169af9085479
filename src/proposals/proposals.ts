import type { z } from "zod";
import type { CreateProposalBody, ProposalStatus } from "../api/proposals";
import { MAX_PROPOSED_SERVICES, MAX_PROPOSED_SLOTS } from "../api/proposals";
import { auditStatement } from "../audit/audit";
import { teamKeyMaterial, type ApiKeyContext, type KeyOrUserContext, type TeamContext, type VaultContext } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { gatewayChanged } from "../gateway/cache";
import { hostPatternIssues, upsertServiceStatements } from "../gateway/services";
import { referencedKeys, type Service } from "../gateway/types";
import { newId } from "../ids";
import { openSecret, sealSecret, type SealedSecret } from "../vault/cipher";
import { getKeyring } from "../vault/keyring";
import { retireIdleVersions } from "../vault/versions";
import { checkKeys, deleteVaultKeyStatements, isVaultKeyConflict, vaultKeyRows, vaultKeyStatements } from "../views/vault-keys";
import { notifyProposal } from "./notify";
import { newHostWarnings } from "./warnings";

/**
 * Proposals (issue 12 section 2): an agent (or a member's key) asks for credentials and
 * services; a member approves in a browser, giving the values the agent does not have; the
 * change applies in one D1 batch, or not at all. Values the agent provides are sealed at once
 * (bound to the proposal and KEY) and never shown: reviewers see "value provided" and a length.
 */
export const PROPOSAL_TTL_MS = 7 * 24 * 3600 * 1000;
export const MAX_PENDING_PROPOSALS = 20;

type CreateInput = z.output<typeof CreateProposalBody>;

/** A slot as stored (JSON in proposals.slots). */
export interface StoredSlot {
  action: "set" | "delete";
  key: string;
  type?: "static" | "oauth";
  description?: string;
  obtain?: string;
  obtain_instructions?: string;
  oauth?: { authorization_url?: string; token_url: string; scopes?: string };
  valueLength?: number;
  sealed?: SealedSecret;
}

export interface ProposalRow {
  id: string;
  team_id: string;
  api_key_id: string | null;
  status: ProposalStatus;
  message: string;
  services: string;
  slots: string;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string | null;
  slug: string;
}

const COLUMNS = "p.id, p.team_id, p.api_key_id, p.status, p.message, p.services, p.slots, p.created_at, p.expires_at, p.decided_at, p.decided_by, p.reason, t.slug";

/** The label a slot value's ciphertext is bound to (never usable as another credential's). */
const slotLabel = (proposalId: string, key: string) => `proposal:${proposalId}:${key}`;

export const approvalUrl = (origin: string, id: string) => `${origin}/portal/proposals/${id}`;

/** A pending proposal past its expiry reads as expired, whether or not the sweeper got to it. */
export function effectiveStatus(row: Pick<ProposalRow, "status" | "expires_at">, now = Date.now()): ProposalStatus {
  return row.status === "pending" && Date.parse(row.expires_at) <= now ? "expired" : row.status;
}

export const parseSlots = (row: Pick<ProposalRow, "slots">) => JSON.parse(row.slots) as StoredSlot[];
export const parseServices = (row: Pick<ProposalRow, "services">) => JSON.parse(row.services) as Service[];

/** The proposal as shown to callers: no sealed value, ever. `exists` says which KEYs the vault has now. */
export function proposalView(row: ProposalRow, origin: string, existing: ReadonlySet<string>) {
  return {
    id: row.id,
    vault: row.slug,
    status: effectiveStatus(row),
    message: row.message,
    services: parseServices(row) as unknown as Record<string, unknown>[],
    credentials: parseSlots(row).map((s) => ({
      action: s.action,
      key: s.key,
      ...(s.type ? { type: s.type } : {}),
      ...(s.description !== undefined ? { description: s.description } : {}),
      ...(s.obtain !== undefined ? { obtain: s.obtain } : {}),
      ...(s.obtain_instructions !== undefined ? { obtain_instructions: s.obtain_instructions } : {}),
      ...(s.oauth ? { oauth: s.oauth } : {}),
      valueProvided: s.sealed !== undefined,
      ...(s.valueLength !== undefined ? { valueLength: s.valueLength } : {}),
      exists: existing.has(s.key),
    })),
    approvalUrl: approvalUrl(origin, row.id),
    apiKeyId: row.api_key_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
    reason: row.reason,
  };
}
export type ProposalView = ReturnType<typeof proposalView>;

const invalid = (issues: { path: string; message: string }[]) => new AppError("proposal_invalid", issues.map((i) => `${i.path}: ${i.message}`).join("; "), { issues });

/**
 * The rules a proposal must keep (seed 003, issue 12): sizes, KEY format, one slot per KEY,
 * every `set` slot referenced by a proposed service (when services are given), every KEY a
 * service names existing or proposed, OAuth slots without values, deletes of KEYs that exist,
 * and the services API's host pattern rule.
 */
async function checkProposal(ctx: TeamContext, input: CreateInput): Promise<void> {
  const { services, credentials } = input;
  if (services.length > MAX_PROPOSED_SERVICES || credentials.length > MAX_PROPOSED_SLOTS) throw invalid([{ path: "services", message: `at most ${MAX_PROPOSED_SERVICES} services and ${MAX_PROPOSED_SLOTS} credential slots` }]);
  checkKeys(credentials.map((c) => c.key));
  const hostIssues = hostPatternIssues(ctx.env, services, (i) => `services.${i}.`);
  if (hostIssues.length > 0) throw new AppError("validation_failed", "Invalid request body", { issues: hostIssues });
  const issues: { path: string; message: string }[] = [];
  const seenKeys = new Set<string>();
  credentials.forEach((c, i) => {
    if (seenKeys.has(c.key)) issues.push({ path: `credentials.${i}.key`, message: `${c.key} appears in more than one slot` });
    seenKeys.add(c.key);
  });
  const seenNames = new Set<string>();
  services.forEach((s, i) => {
    if (seenNames.has(s.name)) issues.push({ path: `services.${i}.name`, message: "service names must be unique" });
    seenNames.add(s.name);
  });
  credentials.forEach((c, i) => {
    if (c.action !== "set") return;
    const oauth = c.type === "oauth" || c.oauth !== undefined;
    if (oauth && c.value !== undefined) issues.push({ path: `credentials.${i}.value`, message: "an OAuth slot never carries a value (the reviewer connects or pastes tokens)" });
    if (c.type === "oauth" && !c.oauth) issues.push({ path: `credentials.${i}.oauth`, message: "an OAuth slot needs oauth.token_url" });
    if (c.oauth && c.type === "static") issues.push({ path: `credentials.${i}.type`, message: 'a slot with oauth is of type "oauth"' });
  });
  const referenced = new Set(services.flatMap((s) => referencedKeys(s.auth)));
  if (services.length > 0) {
    credentials.forEach((c, i) => {
      if (c.action === "set" && !referenced.has(c.key)) issues.push({ path: `credentials.${i}.key`, message: `${c.key} is not referenced by any proposed service` });
    });
  }
  const setKeys = new Set(credentials.filter((c) => c.action === "set").map((c) => c.key));
  const deleteKeys = credentials.filter((c) => c.action === "delete").map((c) => c.key);
  const existing = await vaultKeyRows(ctx, [...new Set([...referenced, ...deleteKeys])]);
  services.forEach((s, i) => {
    for (const key of referencedKeys(s.auth)) {
      if (deleteKeys.includes(key)) issues.push({ path: `services.${i}.auth`, message: `${key} is deleted by this proposal` });
      else if (!setKeys.has(key) && !existing.has(key)) issues.push({ path: `services.${i}.auth`, message: `${key} is neither a credential of the vault nor a slot of this proposal` });
    }
  });
  credentials.forEach((c, i) => {
    if (c.action === "delete" && !existing.has(c.key)) issues.push({ path: `credentials.${i}.key`, message: `the vault has no credential ${c.key} to delete` });
  });
  if (issues.length > 0) throw invalid(issues);
}

/** `POST /v1/proposals`: validates, seals agent-provided values, stores the pending proposal (at most 20 pending per vault). */
export async function createProposal(ctx: ApiKeyContext, input: CreateInput, origin: string) {
  const { env, team } = ctx;
  await checkProposal(ctx, input);
  const id = newId.proposal();
  const keyring = await getKeyring(env);
  const slots: StoredSlot[] = [];
  for (const c of input.credentials) {
    if (c.action === "delete") {
      slots.push({ action: "delete", key: c.key });
      continue;
    }
    const slot: StoredSlot = { action: "set", key: c.key, type: c.type ?? (c.oauth ? "oauth" : "static") };
    if (c.description !== undefined) slot.description = c.description;
    if (c.obtain !== undefined) slot.obtain = c.obtain;
    if (c.obtain_instructions !== undefined) slot.obtain_instructions = c.obtain_instructions;
    if (c.oauth) slot.oauth = { token_url: c.oauth.token_url, ...(c.oauth.authorization_url ? { authorization_url: c.oauth.authorization_url } : {}), ...(c.oauth.scopes ? { scopes: c.oauth.scopes } : {}) };
    if (c.value !== undefined) {
      slot.sealed = await sealSecret(keyring, teamKeyMaterial(team), slotLabel(id, c.key), c.value);
      slot.valueLength = [...c.value].length;
    }
    slots.push(slot);
  }
  const now = Date.now();
  const at = new Date(now).toISOString();
  const expiresAt = new Date(now + PROPOSAL_TTL_MS).toISOString();
  // The limit is checked in the insert itself, so concurrent proposals cannot pass it together.
  const [inserted] = await env.DB.batch([
    env.DB
      .prepare(
        `INSERT INTO proposals (id, team_id, api_key_id, status, message, services, slots, created_at, expires_at)
         SELECT ?, ?, ?, 'pending', ?, ?, ?, ?, ?
         WHERE (SELECT COUNT(*) FROM proposals WHERE team_id = ? AND status = 'pending' AND expires_at > ?) < ?`,
      )
      .bind(id, team.id, ctx.actor.id, input.message, JSON.stringify(input.services), JSON.stringify(slots), at, expiresAt, team.id, at, MAX_PENDING_PROPOSALS),
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "proposal.created",
      targetType: "proposal",
      targetId: id,
      requestId: ctx.requestId,
      metadata: { services: input.services.length, slots: slots.length, keys: slots.map((s) => `${s.action}:${s.key}`).join(" ").slice(0, 500) },
    }, at, { onlyIfChanged: true }),
  ]);
  if (!inserted?.meta.changes) throw new AppError("too_many_pending_proposals", `This vault already has ${MAX_PENDING_PROPOSALS} pending proposals`, { limit: MAX_PENDING_PROPOSALS });
  notifyProposal(ctx, "proposal.created", { id, status: "pending", approvalUrl: approvalUrl(origin, id), expiresAt });
  return { proposal: { id, status: "pending" as const, approvalUrl: approvalUrl(origin, id), expiresAt } };
}

async function loadRow(env: Env, id: string, teamId?: string): Promise<ProposalRow | null> {
  return env.DB
    .prepare(`SELECT ${COLUMNS} FROM proposals p JOIN teams t ON t.id = p.team_id WHERE p.id = ?${teamId ? " AND p.team_id = ?" : ""}`)
    .bind(...(teamId ? [id, teamId] : [id]))
    .first<ProposalRow>();
}

/** The team a proposal belongs to (the portal resolves the reviewer's vault context from it); null when there is none. */
export async function proposalTeamId(env: Env, id: string): Promise<string | null> {
  return (await env.DB.prepare("SELECT team_id FROM proposals WHERE id = ?").bind(id).first<{ team_id: string }>())?.team_id ?? null;
}

async function existingKeysOf(ctx: TeamContext, row: ProposalRow): Promise<Set<string>> {
  return new Set((await vaultKeyRows(ctx, parseSlots(row).map((s) => s.key))).keys());
}

/** A proposal of the caller's team (another team's and an unknown one look the same: 404). */
export async function getProposalRow(ctx: TeamContext, id: string): Promise<ProposalRow> {
  const row = await loadRow(ctx.env, id, ctx.team.id);
  if (!row) throw new AppError("not_found", "Proposal not found");
  return row;
}

/** `GET /v1/proposals/:id`: status polling by the team's keys (the proposer included) and members. */
export async function getProposal(ctx: KeyOrUserContext, id: string, origin: string) {
  const row = await getProposalRow(ctx, id);
  return { proposal: proposalView(row, origin, await existingKeysOf(ctx, row)) };
}

/** The approval view: the proposal with a loud warning for every existing credential a proposed service would send to a new host. */
export async function reviewProposal(ctx: VaultContext, id: string, origin: string) {
  const row = await getProposalRow(ctx, id);
  return { proposal: proposalView(row, origin, await existingKeysOf(ctx, row)), warnings: await newHostWarnings(ctx, parseServices(row)) };
}

export async function listProposals(ctx: TeamContext, status: ProposalStatus | undefined, origin: string) {
  const now = new Date().toISOString();
  // "pending" excludes pending rows past expiry (they read as expired); "expired" includes them.
  const filter =
    status === undefined ? ["", []] : status === "pending" ? [" AND p.status = 'pending' AND p.expires_at > ?", [now]] : status === "expired" ? [" AND (p.status = 'expired' OR (p.status = 'pending' AND p.expires_at <= ?))", [now]] : [" AND p.status = ?", [status]];
  const { results } = await ctx.env.DB
    .prepare(`SELECT ${COLUMNS} FROM proposals p JOIN teams t ON t.id = p.team_id WHERE p.team_id = ?${filter[0] as string} ORDER BY p.created_at DESC, p.id DESC LIMIT 200`)
    .bind(ctx.team.id, ...(filter[1] as string[]))
    .all<ProposalRow>();
  const keys = [...new Set(results.flatMap((r) => parseSlots(r).map((s) => s.key)))];
  const existing = new Set((await vaultKeyRows(ctx, keys)).keys());
  return { proposals: results.map((r) => proposalView(r, origin, existing)) };
}

/** Approve and reject are for people: a user session of a member (the route's minRole); any API key is refused. */
function requireUserSession(ctx: VaultContext): void {
  if (ctx.actor.type !== "user") throw new AppError("access_denied", "Only a signed-in member can approve or reject a proposal; API keys (agent or not) never can");
}

function notPending(row: ProposalRow): AppError {
  const status = effectiveStatus(row);
  return new AppError("proposal_not_pending", `The proposal is ${status}`, { status });
}

/**
 * The guard every decision's batch starts with: it sets the status when the proposal is still
 * pending and unexpired, and otherwise sets NULL, which the NOT NULL column refuses, so the
 * whole batch (every credential, every service) is rolled back. Of concurrent approvals
 * exactly one passes.
 */
function decideStatement(env: Env, row: ProposalRow, status: "approved" | "rejected", userId: string, at: string, reason: string | null): D1PreparedStatement {
  return env.DB
    .prepare(
      `UPDATE proposals SET status = CASE WHEN status = 'pending' AND expires_at > ?1 THEN ?2 ELSE NULL END, decided_at = ?1, decided_by = ?3, reason = ?4
       WHERE id = ?5 AND team_id = ?6`,
    )
    .bind(at, status, userId, reason, row.id, row.team_id);
}

const isGuardFailure = (error: unknown) => /NOT NULL constraint failed: proposals\.status/i.test(String(error));

/**
 * `POST .../approve`: every credential set (the values given here, or the agent's sealed one)
 * and deleted, every service written, the proposal marked approved, audited: one D1 batch, or
 * nothing. OAuth slots need no value: their KEY is connected afterwards (Connect or paste).
 */
export async function approveProposal(ctx: VaultContext, id: string, given: Record<string, string>, origin: string) {
  requireUserSession(ctx);
  const { env, team } = ctx;
  const row = await getProposalRow(ctx, id);
  if (effectiveStatus(row) !== "pending") throw notPending(row);
  const slots = parseSlots(row);
  const services = parseServices(row);
  const unknown = Object.keys(given).filter((k) => !slots.some((s) => s.action === "set" && s.key === k && s.type !== "oauth"));
  if (unknown.length > 0) throw new AppError("proposal_invalid", `Not a credential slot of this proposal: ${unknown.join(", ")}`, { issues: unknown.map((k) => ({ path: `credentials.${k}`, message: "not a slot of this proposal that takes a value" })) });
  const keyring = await getKeyring(env);
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const s of slots) {
    if (s.action !== "set" || s.type === "oauth") continue;
    const provided = given[s.key];
    if (provided !== undefined && provided !== "") values[s.key] = provided;
    else if (s.sealed) values[s.key] = await openSecret(keyring, teamKeyMaterial(team), slotLabel(row.id, s.key), s.sealed);
    else missing.push(s.key);
  }
  if (missing.length > 0) throw new AppError("value_required", `A value is needed for ${missing.join(", ")}`, { keys: missing });
  // The vault may have changed since the proposal: every KEY a service names must still resolve.
  const deletes = slots.filter((s) => s.action === "delete").map((s) => s.key);
  const oauthKeys = new Set(slots.filter((s) => s.action === "set" && s.type === "oauth").map((s) => s.key));
  const rows = await vaultKeyRows(ctx, [...new Set([...deletes, ...services.flatMap((s) => referencedKeys(s.auth))])]);
  const unresolved = [...new Set(services.flatMap((s) => referencedKeys(s.auth)))].filter((k) => !(k in values) && !oauthKeys.has(k) && !rows.has(k));
  if (unresolved.length > 0) throw new AppError("credential_not_found", `No credential named ${unresolved.join(", ")} in this vault any more`, { keys: unresolved });
  const { results: current } = await env.DB.prepare("SELECT name FROM services WHERE team_id = ?").bind(team.id).all<{ name: string }>();
  const serviceNames = new Set(current.map((r) => r.name));

  const at = new Date().toISOString();
  const writes = await vaultKeyStatements(ctx, values, at);
  const statements: D1PreparedStatement[] = [decideStatement(env, row, "approved", ctx.actor.id, at, null), ...writes.statements];
  for (const key of deletes) {
    const existing = rows.get(key);
    if (existing) statements.push(...deleteVaultKeyStatements(ctx, existing, at));
  }
  for (const s of services) statements.push(...upsertServiceStatements(ctx, s, serviceNames.has(s.name), at));
  statements.push(
    auditStatement(env.DB, {
      teamId: team.id,
      actor: ctx.actor,
      action: "proposal.approved",
      targetType: "proposal",
      targetId: row.id,
      requestId: ctx.requestId,
      metadata: { services: services.length, set: Object.keys(values).length, deleted: deletes.length, oauth: oauthKeys.size },
    }, at),
  );
  try {
    await env.DB.batch(statements);
  } catch (error) {
    if (isGuardFailure(error)) {
      const now = await getProposalRow(ctx, id);
      if (effectiveStatus(now) !== "pending") throw notPending(now);
      throw new AppError("version_conflict");
    }
    if (isVaultKeyConflict(error)) throw new AppError("version_conflict", undefined, {}, { internal: String(error) });
    throw error;
  }
  await gatewayChanged(env, team.id);
  for (const s of writes.set.filter((s) => !s.created)) await retireIdleVersions(ctx, s.id);
  const after = await getProposalRow(ctx, id);
  const view = proposalView(after, origin, await existingKeysOf(ctx, after));
  notifyProposal(ctx, "proposal.approved", { id, status: "approved", approvalUrl: view.approvalUrl, expiresAt: view.expiresAt });
  return { proposal: view };
}

/** `POST .../reject`: the proposal is closed with the reviewer's reason; nothing else changes. */
export async function rejectProposal(ctx: VaultContext, id: string, reason: string, origin: string) {
  requireUserSession(ctx);
  const { env, team } = ctx;
  const row = await getProposalRow(ctx, id);
  if (effectiveStatus(row) !== "pending") throw notPending(row);
  const at = new Date().toISOString();
  try {
    await env.DB.batch([
      decideStatement(env, row, "rejected", ctx.actor.id, at, reason),
      auditStatement(env.DB, { teamId: team.id, actor: ctx.actor, action: "proposal.rejected", targetType: "proposal", targetId: row.id, requestId: ctx.requestId, metadata: { reasonLength: reason.length } }, at),
    ]);
  } catch (error) {
    if (isGuardFailure(error)) throw notPending(await getProposalRow(ctx, id));
    throw error;
  }
  const after = await getProposalRow(ctx, id);
  const view = proposalView(after, origin, await existingKeysOf(ctx, after));
  notifyProposal(ctx, "proposal.rejected", { id, status: "rejected", approvalUrl: view.approvalUrl, expiresAt: view.expiresAt });
  return { proposal: view };
}
