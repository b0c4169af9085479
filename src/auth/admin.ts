import { AppError } from "../errors";
import { timingSafeEqual, utf8 } from "../encoding";
import type { Env } from "../env";

const MIN_ADMIN_TOKEN_LENGTH = 32;

/** Operator authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export async function requireAdmin(env: Pick<Env, "ADMIN_TOKEN">, headers: Headers): Promise<void> {
  const configured = env.ADMIN_TOKEN?.trim();
  if (!configured || configured.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new AppError("not_configured", `Admin API is not configured: set ADMIN_TOKEN to at least ${MIN_ADMIN_TOKEN_LENGTH} random characters`);
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "");
  if (!match?.[1]) throw new AppError("admin_token_required");
  // Compare digests so neither length nor content leaks through timing.
  const [given, expected] = await Promise.all([digest(match[1]), digest(configured)]);
  if (!timingSafeEqual(given, expected)) throw new AppError("invalid_admin_token");
}

async function digest(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(value)));
}
