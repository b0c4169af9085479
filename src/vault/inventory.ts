import type { TeamContext } from "../context";
import { AppError } from "../errors";
import { parseAllowedHosts } from "./hosts";
import { isExpired, parseJsonArray, type CredentialKind } from "./store";

/**
 * The team's whole store as one list of metadata, whatever view created each row (tokens,
 * named secrets, credentials, vault KEYs): what the portal's vault page shows. Never a value or
 * a ciphertext. User-level secrets are listed only to their owner (seed 001: "only that user").
 */
export interface InventoryItem {
  id: string;
  kind: CredentialKind;
  name: string;
  type: string;
  /** team: every key of the team; app: the API keys it is assigned to; user: its owner only. */
  owner: "team" | "app" | "user";
  scope: string[];
  assignedKeys: { id: string; name: string; prefix: string }[];
  createdAt: string;
  updatedAt: string | null;
  expiresAt: string | null;
  expired: boolean;
  currentVersion: number;
  allowedHosts: string[] | null;
  activeLeases: number;
}

interface Row {
  id: string;
  kind: CredentialKind;
  name: string;
  type: string;
  owner_type: "team" | "app" | "user";
  scope_labels: string;
  created_at: string;
  updated_at: string | null;
  expires_at: string | null;
  current_version: number;
  allowed_hosts: string | null;
  active_leases: number;
}

const COLUMNS = `t.id, t.kind, t.name, t.type, t.owner_type, t.scope_labels, t.created_at, t.updated_at, t.expires_at, t.current_version, t.allowed_hosts,
  (SELECT COUNT(*) FROM leases l WHERE l.token_id = t.id AND l.revoked_at IS NULL AND l.expires_at > ?) AS active_leases`;
/** Active rows of the team the viewer may see (parameters: team id, viewer user id). */
const VISIBLE = "t.team_id = ? AND t.revoked_at IS NULL AND (t.owner_type <> 'user' OR t.owner_user_id = ?)";

async function load(ctx: TeamContext, viewerUserId: string, only?: string): Promise<InventoryItem[]> {
  const db = ctx.env.DB;
  const now = new Date().toISOString();
  const where = only ? `${VISIBLE} AND t.id = ?` : VISIBLE;
  const args = only ? [now, ctx.team.id, viewerUserId, only] : [now, ctx.team.id, viewerUserId];
  const [rows, assignments] = await db.batch<Row | { token_id: string; id: string; name: string; prefix: string }>([
    db.prepare(`SELECT ${COLUMNS} FROM tokens t WHERE ${where} ORDER BY t.name, t.id LIMIT 1000`).bind(...args),
    db
      .prepare(
        `SELECT a.token_id, k.id, k.name, k.prefix FROM secret_assignments a JOIN api_keys k ON k.id = a.api_key_id
         WHERE a.team_id = ? AND k.revoked_at IS NULL${only ? " AND a.token_id = ?" : ""} ORDER BY k.name, k.id`,
      )
      .bind(...(only ? [ctx.team.id, only] : [ctx.team.id])),
  ]);
  const byToken = new Map<string, InventoryItem["assignedKeys"]>();
  for (const a of (assignments?.results ?? []) as { token_id: string; id: string; name: string; prefix: string }[]) {
    byToken.set(a.token_id, [...(byToken.get(a.token_id) ?? []), { id: a.id, name: a.name, prefix: a.prefix }]);
  }
  return ((rows?.results ?? []) as Row[]).map((r) => ({
    id: r.id,
    kind: r.kind,
    name: r.name,
    type: r.type,
    owner: r.owner_type,
    scope: parseJsonArray(r.scope_labels),
    assignedKeys: byToken.get(r.id) ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    expired: isExpired(r.expires_at),
    currentVersion: r.current_version,
    allowedHosts: parseAllowedHosts(r.allowed_hosts),
    activeLeases: r.active_leases,
  }));
}

/** Every active credential of the team the viewer may see, by name. */
export const listInventory = (ctx: TeamContext, viewerUserId: string) => load(ctx, viewerUserId);

/** One of them by id; 404 when it is not the team's, not active, or another user's own secret. */
export async function getInventoryItem(ctx: TeamContext, viewerUserId: string, id: string): Promise<InventoryItem> {
  const [item] = await load(ctx, viewerUserId, id);
  if (!item) throw new AppError("not_found", "Credential not found");
  return item;
}
