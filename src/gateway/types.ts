/**
 * The gateway's vocabulary (issue 11, seed 003). A service says which credential goes to which
 * host: requests the proxy forwards to a matching host get the service's auth injected. Auth
 * names credential KEYs of the vault, never values.
 */
export type ServiceAuth =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "api-key"; key: string; header: string; prefix?: string }
  /** Header name -> template with `{{ KEY }}` placeholders. */
  | { type: "custom"; headers: Record<string, string> }
  | { type: "passthrough" };

export type ServiceAuthType = ServiceAuth["type"];

/** A service as stored and listed. `host` is the pattern as written (`*.github.com`, `slack.com/api/*`, `api.example.com:8443`). */
export interface Service {
  name: string;
  host: string;
  enabled: boolean;
  auth: ServiceAuth;
}

/** A parsed host pattern (see host-pattern.ts). */
export interface HostPattern {
  /** Lower-cased host; for a wildcard, the suffix after `*.` */
  host: string;
  /** `*.` one-level wildcard. */
  wildcard: boolean;
  /** null: any port. */
  port: number | null;
  /** Path glob (`/api/*`), null: any path. `*` matches any run of characters, `/` included. */
  path: string | null;
}

/** A service ready for matching: its pattern parsed and its declaration order known. */
export interface ServiceRule extends Service {
  pattern: HostPattern;
  position: number;
}

/** Every KEY a service's auth references (what must exist when the service is written). */
export function referencedKeys(auth: ServiceAuth): string[] {
  switch (auth.type) {
    case "bearer":
      return [auth.token];
    case "basic":
      return [auth.username, auth.password];
    case "api-key":
      return [auth.key];
    case "custom":
      return [...new Set(Object.values(auth.headers).flatMap((t) => templateKeys(t)))];
    case "passthrough":
      return [];
  }
}

/** `{{ KEY }}` placeholders of a custom header template, in order. */
export function templateKeys(template: string): string[] {
  return [...template.matchAll(TEMPLATE_PLACEHOLDER)].map((m) => m[1] as string);
}
export const TEMPLATE_PLACEHOLDER = /\{\{\s*([A-Z][A-Z0-9_]*)\s*\}\}/g;
/** KEYs are UPPER_SNAKE_CASE (seed 003). */
export const CREDENTIAL_KEY = /^[A-Z][A-Z0-9_]*$/;
