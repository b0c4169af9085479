import { auditStatement } from "../audit/audit";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
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
    throw new ApiError(429, "Too many attempts, try again later", {}, { "Retry-After": retryAfter });
  }
}

/** The caller's address as Cloudflare reports it (never a client-supplied forwarding header). */
export const clientAddress = (request: Request) => request.headers.get("cf-connecting-ip") ?? "unknown";

export async function signup(env: Env, request: Request, input: { email: string; password: string; teamName: string }, requestId: string) {
  refuseOverLimit(await loginThrottle(env).signup(clientAddress(request)));
  const email = normalizeEmail(input.email);
  const user: UserRow = { id: newId.user(), email, password_hash: await hashPassword(input.password), session_version: 0, created_at: new Date().toISOString() };
  const { statements, created } = await createTeamStatements(env, { actor: { type: "user", id: user.id }, requestId }, input.teamName, "free", { name: "Default key", skip: true });
  try {
    await env.DB.batch([
      env.DB.prepare("INSERT INTO users (id, email, password_hash, session_version, created_at) VALUES (?, ?, ?, 0, ?)").bind(user.id, email, user.password_hash, user.created_at),
      ...statements,
      env.DB.prepare("INSERT INTO memberships (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)").bind(created.team.id, user.id, user.created_at),
      auditStatement(env.DB, { teamId: created.team.id, actor: { type: "user", id: user.id }, action: "member.added", targetType: "user", targetId: user.id, requestId, metadata: { role: "owner" } }),
    ]);
  } catch (error) {
    if (/UNIQUE/i.test(String(error)) && /users\.email|email/i.test(String(error))) throw new ApiError(409, "An account with this email already exists");
    throw error;
  }
  return { user: userView(user), team: teamView(created.team), token: await signSession(env, user.id, 0) };
}

/** Same answer, in about the same time, for an unknown email and a wrong password. */
export async function login(env: Env, exec: ExecutionContext, request: Request, input: { email: string; password: string }, requestId: string) {
  const email = normalizeEmail(input.email);
  refuseOverLimit(await loginThrottle(env).login(email, clientAddress(request)));
  const user = await env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first<UserRow>();
  const ok = await verifyPassword(input.password, user?.password_hash ?? null);
  if (!user || !ok) {
    // Recorded after the response, so a known email costs no more time than an unknown one.
    if (user) exec.waitUntil(recordFailedLogin(env, user.id, requestId).catch(() => log.error("login_audit_failed", { requestId })));
    throw new ApiError(401, "Invalid email or password");
  }
  return { token: await signSession(env, user.id, user.session_version) };
}

async function recordFailedLogin(env: Env, userId: string, requestId: string) {
  const { results } = await env.DB.prepare("SELECT team_id FROM memberships WHERE user_id = ?").bind(userId).all<{ team_id: string }>();
  const at = new Date().toISOString();
  if (results.length > 0) {
    await env.DB.batch(
      results.map((m) =>
        auditStatement(env.DB, { teamId: m.team_id, actor: { type: "user", id: userId }, action: "login.failed", targetType: "user", targetId: userId, requestId }, at),
      ),
    );
  }
  log.warn("login_failed", { requestId, userId });
}

/** Ends every session of the user: tokens issued before now are refused from the next request. */
export async function logout(env: Env, auth: UserAuth) {
  await env.DB.prepare("UPDATE users SET session_version = session_version + 1 WHERE id = ?").bind(auth.userId).run();
}

/** Verifies `Authorization: Bearer <JWT>` and that the session was not ended by a logout. */
export async function authenticateUser(env: Env, headers: Headers): Promise<UserAuth> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  if (!match?.[1]) throw new ApiError(401, "Session token required");
  const claims = await verifySession(env, match[1]);
  const user = await env.DB.prepare("SELECT id, email, session_version FROM users WHERE id = ?").bind(claims.sub).first<Pick<UserRow, "id" | "email" | "session_version">>();
  if (!user || user.session_version !== claims.sv) throw new ApiError(401, "Invalid or expired session token");
  return { userId: user.id, email: user.email };
}
