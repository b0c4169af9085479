import { env } from "cloudflare:test";
import { call } from "./api";
import { asUser, createKey, signupUser, type SignedUp } from "./accounts";

/** A signed-up owner on the pro plan, and API keys made by them with the scopes asked for. */
export async function proOwner(label = "owner"): Promise<SignedUp> {
  const owner = await signupUser(label);
  await call("PATCH", `/admin/teams/${owner.team.id}`, { admin: true, body: { plan: "pro" } });
  return owner;
}

export const REVEAL_SCOPES = ["tokens:read", "tokens:write", "tasks:read", "tasks:write", "audit:read", "secrets:read", "secrets:write", "secrets:reveal"];

export async function keyFor(owner: SignedUp, options: { scopes?: string[]; labels?: string[]; name?: string } = {}): Promise<{ id: string; key: string }> {
  const res = await createKey(owner.token, owner.team.id, { name: options.name ?? "key", scopes: options.scopes ?? REVEAL_SCOPES, ...(options.labels ? { labels: options.labels } : {}) });
  if (res.status !== 201) throw new Error(`key creation failed: ${res.status} ${res.text}`);
  return { id: res.json.apiKey.id as string, key: res.json.key as string };
}

export const asSession = asUser;

/** Every audit row of a team, as stored. */
export async function auditRows(teamId: string) {
  return (await env.DB.prepare("SELECT * FROM audit_log WHERE team_id = ? ORDER BY id").bind(teamId).all<Record<string, unknown>>()).results;
}
