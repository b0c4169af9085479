import type { TeamRateLimiter } from "./ratelimit/limiter";
import type { QueueMessage } from "./queue/messages";

/** Bindings and secrets, as declared in wrangler.toml and .dev.vars / `wrangler secret put`. */
export interface Env {
  DB: D1Database;
  RATE_LIMITER: DurableObjectNamespace<TeamRateLimiter>;
  TASKS: Queue<QueueMessage>;
  /** Operator bearer token for /admin routes. */
  ADMIN_TOKEN?: string;
  /** A single 32-byte master key (hex or base64): key version 1. */
  VAULT_MASTER_KEY?: string;
  /** Several versioned master keys, "1:<key>,2:<key>"; the highest version encrypts new rows. */
  VAULT_MASTER_KEYS?: string;
  /** HMAC key for session tokens (JWTs) of the accounts API. */
  JWT_SECRET?: string;
  /** "true" lets tasks target loopback/private addresses (local development only). */
  ALLOW_PRIVATE_TARGETS?: string;
}
