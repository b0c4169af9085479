import { auditStatement } from "../audit/audit";
import type { Context, UserContext } from "../context";
import type { Env } from "../env";
import { AppError } from "../errors";
import { newId } from "../ids";
import { log } from "../log";
import { rateLimitHeaders } from "../http/rate-limit-headers";
import type { RateLimitDecision } from "../ratelimit/sliding-window";
import { createTeamStatements, teamView } from "../teams/teams";
import { signSession, verifySession } from "./jwt";
import { loginThrottle } from "./login-throttle";
import { hashPassword, verifyPassword } from "./passwords";

/** Users, sign-up, login and logout; the session is a short-lived JWT. */
export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  session_version: number;
  created_at: string;
}

export interface UserAuth {
  userId: string;
  email: string;
}

export const userView = (row: Pick<UserRow, "id" | "email" | "created_at">) => ({ id: row.id, email: row.email, createdAt: row.created_at });

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

function refuseOverLimit(decision: RateLimitDecision) {
  if (!decision.allowed) {
    const { "Retry-After": retryAfter = "60" } = rateLimitHeaders(decision);
    throw new AppError("too_many_attempts", undefined, {}, { retryAfterSeconds: Number(retryAfter) });
  }
}

/** The caller's address, for per-address limits ("unknown" when the platform gave none). */
const addressOf = (ctx: Context) => ctx.clientAddress ?? "unknown";

export async function signup(ctx: Context, input: { email: string; password: string; teamName: string }) {
  const { env, requestId } = ctx;
  refuseOverLimit(await loginThrottle(env).signup(addressOf(ctx)));
  const email = normalizeEmail(input.email);
  const user: UserRow = { id: newId.user(), email, password_hash: await hashPassword(input.password), session_version: 0, created_at: new Date().toISOString() };
  // The new user creates the team: it is the actor of its audit rows.
  const actor = { type: "user" as const, id: user.id, email };
  const { statements, created } = await createTeamStatements({ ...ctx, actor }, input.teamName, "free", { name: "Default key", skip: true });
  try {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO users (id, email, password_hash, session_version, created_at) VALUES (?, ?, ?, 0, ?)").bind(user.id, email, user.password_hash, user.created_at),
      ...statements,
      env.DB.prepare("INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)").bind(created.team.id, user.id, user.created_at),
      auditStatement(env.DB, { teamId: created.team.id, actor, action: "member.added", targetType: "user", targetId: user.id, requestId, metadata: { role: "owner" } }),
    ]);
  } catch (error) {
    if (/UNIQUE/i.test(String(error)) && /users\.email|email/i.test(String(error))) throw new AppError("email_taken");
    throw error;
  }
  return { user: userView(user), team: teamView(created.team), token: await signSession(env, user.id, 0) };
}

/** Same answer, in about the same time, for an unknown email and a wrong password. */
export async function login(ctx: Context, input: { email: string; password: string }) {
  const { env, exec, requestId } = ctx;
  const email = normalizeEmail(input.email);
  refuseOverLimit(await loginThrottle(env).login(email, addressOf(ctx)));
  const user = await env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first<UserRow>();
  const ok = await verifyPassword(input.password, user?.password_hash ?? null);
  if (!user || !ok) {
    // Recorded after the response, so a known email costs no more time than an unknown one.
    if (user) exec.waitUntil(recordFailedLogin(env, user, requestId).catch(() => log.error("login_audit_failed", { requestId })));
    throw new AppError("invalid_credentials");
  }
  return { token: await signSession(env, user.id, user.session_version) };
}

async function recordFailedLogin(env: Env, user: Pick<UserRow, "id" | "email">, requestId: string) {
  const userId = user.id;
  const { results } = await env.DB.prepare("SELECT team_id FROM memberships WHERE user_id = ?").bind(userId).all<{ team_id: string }>();
  const at = new Date().toISOString();
  if (results.length > 0) {
    await env.DB.batch(
      results.map((m) =>
        auditStatement(env.DB, { teamId: m.team_id, actor: { type: "user", id: userId, email: user.email }, action: "login.failed", targetType: "user", targetId: userId, requestId }, at),
      ),
    );
  }
  log.warn("login_failed", { requestId, userId });
}

/** Ends every session of the user: tokens issued before now are refused from the next request. */
export async function logout(ctx: UserContext) {
  await ctx.env.DB.prepare("UPDATE users SET session_version = session_version + 1 WHERE id = ?").bind(ctx.actor.id).run();
}

/** Verifies `Authorization: Bearer <JWT>` and that the session was not ended by a logout. */
export async function authenticateUser(env: Env, headers: Headers): Promise<UserAuth> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  if (!match?.[1]) throw new AppError("session_required");
  const claims = await verifySession(env, match[1]);
  const user = await env.DB.prepare("SELECT id, email, session_version FROM users WHERE id = ?").bind(claims.sub).first<Pick<UserRow, "id" | "email" | "session_version">>();
  if (!user || user.session_version !== claims.sv) throw new AppError("invalid_session");
  return { userId: user.id, email: user.email };
}
