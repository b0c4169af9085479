import { VaultError } from "./errors";

/**
 * The transport every resource uses: one place that builds URLs, sends the caller's
 * credential, reads JSON and turns error answers into `VaultError`s.
 */

/** What the client needs of a response: global `fetch`'s Response and a Worker's both fit. */
export interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** Global `fetch`, a service binding's `fetch`, or a test's `SELF.fetch` (bind it). */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponse>;

export interface VaultOptions {
  /** Where the vault is served, e.g. `https://vault.example.com` (a path prefix is kept). */
  baseUrl: string;
  /** API key (`tvk_...`) for the /v1 routes. */
  apiKey?: string;
  /** Session token (JWT from `auth.login`/`auth.signup`) for the accounts routes. */
  sessionToken?: string;
  /**
   * For a user in several teams: the team a session acts for on the routes that take either
   * credential (`vault.secrets`), sent as `X-Team-Id`.
   */
  teamId?: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
}

/**
 * Which credential a route takes. `apiKeyOrSession`: the API key when the client has one (an
 * app-level caller), else the session token (the user's own secrets, with `teamId` if set).
 */
export type Credential = "apiKey" | "session" | "apiKeyOrSession" | "none";

export type QueryValue = string | number | boolean | undefined;

export interface RequestSpec {
  auth: Credential;
  query?: Record<string, QueryValue> | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

export interface Answer<T> {
  data: T;
  status: number;
  headers: FetchResponse["headers"];
}

/** A path segment from a caller's value: encoded, so an id can never change the route. */
export const seg = (value: string): string => encodeURIComponent(value);

export class Transport {
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;

  constructor(readonly options: VaultOptions) {
    if (!options.baseUrl) throw new TypeError("baseUrl is required");
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    // Workers refuse an unbound global fetch ("Illegal invocation").
    this.fetchFn = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  async request<T>(method: string, path: string, spec: RequestSpec): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: "application/json", ...spec.headers };
    const credential = this.credentialFor(spec.auth);
    // A session names its team on these routes; a key belongs to exactly one.
    if (spec.auth === "apiKeyOrSession" && !this.options.apiKey && this.options.teamId) headers["x-team-id"] = this.options.teamId;
    // Without the credential the request still goes out: the server answers with its own code
    // (api_key_required, session_required), the same as for any other client.
    if (credential) headers.authorization = `Bearer ${credential}`;
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(spec.body);
    }
    const init: FetchInit = { method, headers };
    if (body !== undefined) init.body = body;
    if (spec.signal) init.signal = spec.signal;

    let response: FetchResponse;
    let text: string;
    try {
      response = await this.fetchFn(this.baseUrl + path + queryString(spec.query), init);
      text = await response.text();
    } catch (cause) {
      // The cause's message may name the host; it never holds the credential or the body.
      throw new VaultError({ status: 0, code: "network_error", message: `Network error: ${cause instanceof Error ? cause.message : String(cause)}`, cause });
    }
    const requestId = response.headers.get("x-request-id") ?? undefined;
    const parsed = parseJson(text);
    if (response.status >= 400) throw toVaultError(response, parsed, requestId);
    if (parsed === undefined && text !== "") {
      throw new VaultError({ status: response.status, code: "unexpected_response", message: `Expected a JSON answer (HTTP ${response.status})`, requestId });
    }
    return { data: parsed as T, status: response.status, headers: response.headers };
  }

  private credentialFor(auth: Credential): string | undefined {
    switch (auth) {
      case "apiKey":
        return this.options.apiKey;
      case "session":
        return this.options.sessionToken;
      case "apiKeyOrSession":
        return this.options.apiKey ?? this.options.sessionToken;
      case "none":
        return undefined;
    }
  }
}

function queryString(query: Record<string, QueryValue> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const encoded = params.toString();
  return encoded ? `?${encoded}` : "";
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function toVaultError(response: FetchResponse, body: unknown, headerRequestId: string | undefined): VaultError {
  const retryHeader = response.headers.get("retry-after");
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : undefined;
  if (typeof body === "object" && body !== null && typeof (body as { code?: unknown }).code === "string") {
    const { error, code, requestId, ...details } = body as { error?: unknown; code: string; requestId?: unknown };
    return new VaultError({
      status: response.status,
      code,
      message: typeof error === "string" ? error : code,
      requestId: typeof requestId === "string" ? requestId : headerRequestId,
      retryAfter,
      details,
    });
  }
  return new VaultError({ status: response.status, code: "unexpected_response", message: `HTTP ${response.status} without the API's error body`, requestId: headerRequestId, retryAfter });
}
