/**
 * The one catalog of error codes. Every error the API answers has a stable `code` from this
 * table (SDKs and the CLI switch on it, never on the human `error` text), the status it is
 * answered with, and a default message. Domain code throws `AppError`s and never builds a
 * response; the http layer (http/errors.ts) is the one translator to `{error, code, ...details}`.
 *
 * This module imports nothing, so the Node side (e2e tests, docs checks) can read it too.
 */
export const ERROR_CATALOG = {
  validation_failed: { status: 400, message: "Invalid request", description: "A body, path, query or header field failed validation; `issues` names each by path" },
  malformed_body: { status: 400, message: "Malformed JSON body", description: "The body is empty, not JSON or not UTF-8 (the input is never echoed)" },
  body_incomplete: { status: 400, message: "Request body incomplete", description: "The connection broke before the whole body arrived (the client disconnected or stopped sending); nothing was changed" },
  max_wait_exceeded: { status: 400, message: "Exceeds the plan's max wait time", description: "A task `timeout` or `?wait=` beyond the plan's max wait time; `maxWaitSeconds` says the limit" },
  url_not_allowed: { status: 400, message: "URL not allowed", description: "A task's target or webhook URL is refused by the outbound URL policy; `field` names it" },
  invalid_token_reference: { status: 400, message: "Malformed token reference", description: "A `tok_` reference in task headers is not well formed; `malformedReferences` lists them" },
  token_unavailable: { status: 400, message: "Unknown or revoked token reference", description: "A `tok_` reference is unknown, revoked or another team's (deliberately indistinguishable); `invalidReferences` lists them" },
  credential_host_not_allowed: { status: 400, message: "Credential not allowed for this host", description: "A task would send a credential to a host outside its `allowedHosts`; `tokenIds` names them, and no request is made" },
  team_required: { status: 400, message: "Name the team with the X-Team-Id header", description: "A user in several teams called a team-scoped route without `X-Team-Id`; `teams` lists the ids" },
  oauth_token_rejected: { status: 400, message: "The OAuth provider rejected the token", description: "Pasted OAuth tokens failed validation at the provider's token endpoint (a refresh token is tried at once); nothing was stored; `providerError` names the provider's error" },
  value_prefix_mismatch: { status: 400, message: "Value does not start with metadata.prefix", description: "A credential's value does not start with its `metadata.prefix` (the wrong key in the wrong slot); the value is never echoed" },
  invalid_credential_key: { status: 400, message: "Credential KEYs are UPPER_SNAKE_CASE", description: "A vault credential KEY does not match `^[A-Z][A-Z0-9_]*$` (at most 128 characters); `keys` lists the offending ones" },
  credential_not_found: { status: 400, message: "A credential KEY the service names does not exist", description: "A service's auth names a KEY the vault does not have; `keys` lists them (the proxy answers the same code with 502 when a KEY was deleted since)" },
  proposal_invalid: { status: 400, message: "The proposal breaks a rule", description: "A proposal breaks a rule (too many services or slots, a slot no proposed service references, a value on an OAuth slot, a delete of a KEY the vault does not have); `issues` names each by path" },
  value_required: { status: 400, message: "Every credential slot needs a value", description: "Approving a proposal without a value for a `set` slot that has none (OAuth slots excepted); `keys` lists them" },
  api_key_required: { status: 401, message: "API key required", description: "No API key in `Authorization: Bearer` or `X-API-Key`" },
  invalid_api_key: { status: 401, message: "Invalid or revoked API key", description: "The API key is malformed, unknown or revoked" },
  admin_token_required: { status: 401, message: "Admin token required", description: "No operator token on an /admin route" },
  invalid_admin_token: { status: 401, message: "Invalid admin token", description: "The operator token is wrong" },
  session_required: { status: 401, message: "Session token required", description: "No session token on an accounts route" },
  invalid_session: { status: 401, message: "Invalid or expired session token", description: "The session token is malformed, wrongly signed, expired or ended by a logout" },
  invalid_credentials: { status: 401, message: "Invalid email or password", description: "Login failed (an unknown email and a wrong password look the same)" },
  proxy_auth_required: { status: 407, message: "Proxy authentication required", description: "A proxied request without a valid vault key (`Proxy-Authorization: Bearer`, `X-Vault-Token`, or the key where the credential goes); `Proxy-Authenticate` is set" },
  access_denied: { status: 403, message: "Access denied", description: "Another team's resource, or a team the user is not a member of" },
  insufficient_scope: { status: 403, message: "This API key lacks the required scope", description: "The API key lacks the route's scope; `requiredScope` names it" },
  insufficient_role: { status: 403, message: "This requires a higher role", description: "The member's role is too low for the change (only owners touch the owner role)" },
  plan_limit_reached: { status: 403, message: "Plan limit reached", description: "The team's plan allows no more API keys or members; `limit` and `plan` say which" },
  no_matching_service: { status: 403, message: "No service matches this host", description: "The proxy has no service for the target host (and the vault does not pass unmatched requests through); `hint` names the host and how to propose a service" },
  service_disabled: { status: 403, message: "The service is disabled", description: "The proxied request matches a service that is turned off; `service` names it" },
  not_found: { status: 404, message: "Not found", description: "No such route, or no such resource" },
  vault_not_found: { status: 404, message: "Vault not found", description: "No such vault, or one the caller cannot reach (the two look the same)" },
  method_not_allowed: { status: 405, message: "Method not allowed", description: "The path exists but not with this method; `allowed` and the `Allow` header list the methods" },
  name_taken: { status: 409, message: "A credential with this name already exists", description: "The name is taken in its namespace (for app-level secrets: by a secret not assigned to this key)" },
  version_conflict: { status: 409, message: "The credential changed concurrently; read it and retry", description: "Two writers changed a credential's value at once; this one wrote nothing" },
  slug_taken: { status: 409, message: "This vault slug is taken", description: "Another vault has the slug" },
  email_taken: { status: 409, message: "An account with this email already exists", description: "Sign-up with a registered email" },
  already_member: { status: 409, message: "Already a member of this team", description: "Adding a user who is already a member" },
  invitation_pending: { status: 409, message: "An invitation for this email is already pending", description: "Inviting an email that has a pending invitation" },
  last_owner: { status: 409, message: "A team must keep at least one owner", description: "The change would leave the team without an owner" },
  idempotency_key_reused: { status: 409, message: "Idempotency-Key was already used with a different request body", description: "The same Idempotency-Key with another request; `taskId` names the first task" },
  task_not_cancellable: { status: 409, message: "Task cannot be cancelled", description: "The task already started or finished; `status` says where it is" },
  task_not_retryable: { status: 409, message: "Task cannot be retried", description: "Only a failed (dead-lettered included) or timed-out task can be retried; `status` says where it is" },
  proposal_not_pending: { status: 409, message: "The proposal is no longer pending", description: "Approving or rejecting a proposal already approved, rejected or expired; `status` says which, and nothing changed" },
  secret_expired: { status: 410, message: "Secret expired", description: "The secret or credential is past its `expiresAt`: it cannot be revealed, leased or used by a task" },
  lease_expired: { status: 410, message: "Lease expired or revoked", description: "Renewing a lease that has expired or was revoked" },
  payload_too_large: { status: 413, message: "Request body too large", description: "The body is over the route's limit; `limitBytes` says it" },
  unsupported_media_type: { status: 415, message: "Content-Type must be application/json", description: "A body sent with another content type" },
  rate_limited: { status: 429, message: "Rate limit exceeded", description: "The team's requests per minute are used up; see `Retry-After`" },
  lease_limit_reached: { status: 429, message: "The credential's maxLeases active leases are in use", description: "All `maxLeases` leases of the credential are active; `Retry-After` says when the earliest ends" },
  too_many_attempts: { status: 429, message: "Too many attempts, try again later", description: "Too many sign-up or login attempts; see `Retry-After`" },
  too_many_pending_proposals: { status: 429, message: "Too many pending proposals in this vault", description: "The vault has 20 pending proposals: approve, reject or let some expire first; `limit` says it" },
  internal_error: { status: 500, message: "Internal error", description: "Anything unexpected; `requestId` finds the logged details" },
  oauth_not_connected: { status: 502, message: "OAuth credential is not connected", description: "An OAuth credential has no usable access token (never connected, expired without a refresh token, or `needsReconnect` after `invalid_grant`): connect it again" },
  oauth_refresh_failed: { status: 502, message: "OAuth token refresh failed", description: "Refreshing an OAuth credential's access token failed at the provider's token endpoint; its status route shows `lastError`" },
  credential_expired: { status: 502, message: "The credential is past its expiry", description: "The proxy would inject a credential that has expired; `key` names it" },
  upstream_error: { status: 502, message: "The upstream could not be reached", description: "The proxy could not get an answer from the target (connection refused, TLS, DNS, reset)" },
  not_configured: { status: 503, message: "Service is not configured", description: "The operator has not configured a secret the route needs (master key, ADMIN_TOKEN, JWT_SECRET, API_KEY_SECRET)" },
  queue_unavailable: { status: 503, message: "Task queue unavailable, try again", description: "The task could not be queued and was not stored; `retryable` is true" },
} as const satisfies Record<string, { status: number; message: string; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

export const isErrorCode = (value: unknown): value is ErrorCode => typeof value === "string" && Object.hasOwn(ERROR_CATALOG, value);

export const statusOf = (code: ErrorCode): number => ERROR_CATALOG[code].status;

/** Fields sent next to `error` and `code`; never a secret or an input value. */
export type ErrorDetails = Record<string, unknown> & { error?: never; code?: never };

export interface AppErrorOptions {
  /** Seconds the client should wait (sent as `Retry-After`, not in the body). */
  retryAfterSeconds?: number;
  /** Why it happened, for the logs only (never sent): ids and names, never a secret. */
  internal?: string;
  cause?: unknown;
  /**
   * The status when one code means the same thing at two moments with two answers: a KEY a
   * service names is missing when the service is written (400, the catalog's) and when the
   * proxy injects it (502, the vault's upstream side failed). Keep it rare.
   */
  status?: number;
}

/**
 * The one error type: a catalog code, the human message sent as `error` (the catalog's default
 * unless a more precise one is given) and details sent alongside.
 */
export class AppError extends Error {
  readonly status: number;
  readonly retryAfterSeconds: number | undefined;
  readonly internal: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    readonly details: ErrorDetails = {},
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.status = options.status ?? statusOf(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.internal = options.internal;
  }
}
