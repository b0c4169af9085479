import { env } from "cloudflare:test";
import { ALL_SCOPES } from "../../src/auth/scopes";
import { ADMIN_ACTOR, createContext, taskContext, type AdminContext, type ApiKeyContext } from "../../src/context";
import type { Env } from "../../src/env";
import type { Plan } from "../../src/plans";
import type { CreatedTeam } from "../../src/routes/admin";

/** Request contexts for calling domain functions directly, as the app builds them. */
export async function teamOf(teamId: string): Promise<{ id: string; keySalt: string; plan: Plan }> {
  const row = await env.DB.prepare("SELECT key_salt, plan FROM teams WHERE id = ?").bind(teamId).first<{ key_salt: string; plan: Plan }>();
  if (!row) throw new Error(`no team ${teamId}`);
  return { id: teamId, keySalt: row.key_salt, plan: row.plan };
}

/** The context of a request made with the team's first API key (optionally under another Env). */
export async function apiKeyContext(team: CreatedTeam, worker: Env = env, requestId = "req_test"): Promise<ApiKeyContext> {
  return createContext({ requestId, env: worker, actor: { type: "api_key" as const, id: team.apiKey.id, role: "standard" as const }, team: await teamOf(team.team.id), scopes: ALL_SCOPES });
}

/** The context of a task's step, as the queue consumer builds it. */
export async function taskStepContext(teamId: string, apiKeyId: string, taskId = "task_01test", requestId = "req_test", worker: Env = env) {
  return taskContext(worker, { id: taskId, apiKeyId, team: await teamOf(teamId) }, requestId);
}

export function adminContext(worker: Env = env, requestId = "req_test"): AdminContext {
  return createContext({ requestId, env: worker, actor: ADMIN_ACTOR });
}
