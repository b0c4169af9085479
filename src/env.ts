import type { LoginThrottle } from "./auth/login-throttle";
import type { TeamGate } from "./gate/team-gate";
import type { OAuthRefresher } from "./oauth/refresher";
import type { QueueMessage } from "./queue/messages";

/** Bindings and secrets, as declared in wrangler.toml and .dev.vars / `wrangler secret put`. */
export interface Env {
  DB: D1Database;
  /** One Durable Object per team: API-key cache, revocation tombstones, request counter. */
  TEAM_GATE: DurableObjectNamespace<TeamGate>;
  /** Login and sign-up attempts, per account and per client address. */
  LOGIN_THROTTLE: DurableObjectNamespace<LoginThrottle>;
  /** One Durable Object per OAuth credential: single-flight refresh and the proactive refresh alarm. */
  OAUTH_REFRESHER: DurableObjectNamespace<OAuthRefresher>;
  TASKS: Queue<QueueMessage>;
  /** Operator bearer token for /admin routes. */
  ADMIN_TOKEN?: string;
  /** A single 32-byte master key (hex or base64): key version 1. */
  VAULT_MASTER_KEY?: string;
  /** Several versioned master keys, "1:<key>,2:<key>"; the highest version encrypts new rows. */
  VAULT_MASTER_KEYS?: string;
  /** 32 random bytes (hex or base64): the key of API keys' checksums (auth/key-format.ts). */
  API_KEY_SECRET?: string;
  /** Keys without a checksum are looked up only for teams created before this ISO time ("none": never). */
  LEGACY_API_KEYS_BEFORE?: string;
  /** HMAC key for session tokens (JWTs) of the accounts API. */
  JWT_SECRET?: string;
  /** "false" stops the deprecated X-Signature webhook header (sent by default for one release beside the Standard Webhooks headers). */
  LEGACY_WEBHOOK_SIGNATURE?: string;
  /** Days audit entries are kept (default 365); the cron deletes older ones (src/retention/). */
  AUDIT_RETENTION_DAYS?: string;
  /** Shortens the plan's request-log retention (plans.ts requestLogRetentionDays) for every team; it never lengthens it. */
  PROXY_LOG_RETENTION_DAYS?: string;
  /** "true" lets tasks target loopback (127.0.0.0/8, [::1], localhost): local development only. */
  ALLOW_LOOPBACK_TARGETS?: string;
  /** Deprecated: "true" now means what ALLOW_LOOPBACK_TARGETS does (with a warning). */
  ALLOW_PRIVATE_TARGETS?: string;
  /** "development" (set by `npm run dev` in .dev.vars) turns on the local helpers under /_dev. */
  ENVIRONMENT?: string;
}
