import type { ErrorCode } from "../errors";

/**
 * Codes the client raises itself, never sent by the server:
 * - `network_error`: no HTTP answer (connection refused, DNS, TLS, aborted); `status` is 0.
 * - `unexpected_response`: an answer that is not the API's JSON (e.g. a proxy's HTML page).
 * - `wait_timeout`: `tasks.wait` gave up before the task reached a final state; `status` is 0.
 */
export const CLIENT_ERROR_CODES = ["network_error", "unexpected_response", "wait_timeout"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/** A server code from the error catalog (src/errors.ts), a client code, or a code newer than this client. */
export type VaultErrorCode = ErrorCode | ClientErrorCode | (string & {});

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface VaultErrorInit {
  status: number;
  code: VaultErrorCode;
  message: string;
  requestId?: string | undefined;
  retryAfter?: number | undefined;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * The one error the client throws. `code` is stable (switch on it, never on `message`);
 * `details` holds the fields the server sent beside `error` and `code` (e.g. `maxWaitSeconds`,
 * `invalidReferences`), `issues` the offending fields of a `validation_failed`.
 */
export class VaultError extends Error {
  readonly status: number;
  readonly code: VaultErrorCode;
  /** The server's request id (`X-Request-Id`, or `requestId` of a 500 body): quote it to the operator. */
  readonly requestId: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After` (429, some 503). */
  readonly retryAfter: number | undefined;
  readonly details: Record<string, unknown>;
  readonly issues: ValidationIssue[] | undefined;

  constructor(init: VaultErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "VaultError";
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.retryAfter = init.retryAfter;
    this.details = init.details ?? {};
    const issues = this.details.issues;
    this.issues = Array.isArray(issues) ? (issues as ValidationIssue[]) : undefined;
  }
}
