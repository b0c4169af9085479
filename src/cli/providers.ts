/**
 * `token-vault run`'s table of known providers: for a service whose host is one of these, the
 * child gets the variables the provider's official SDK reads, pointing it at the vault
 * (`/s/{service}`) with the agent token as its API key. The vault recognises its own key where
 * the credential goes and replaces it, so the SDK works unmodified and never holds the real key.
 * A provider is listed only when its SDK reads both variables from the environment.
 */
export interface KnownProvider {
  host: string;
  /** The variable the SDK reads its base URL from, and the path the SDK expects after it. */
  baseUrlVar: string;
  basePath: string;
  apiKeyVar: string;
}

export const KNOWN_PROVIDERS: readonly KnownProvider[] = [
  // openai (Python and Node): base URL includes /v1.
  { host: "api.openai.com", baseUrlVar: "OPENAI_BASE_URL", basePath: "/v1", apiKeyVar: "OPENAI_API_KEY" },
  // @anthropic-ai/sdk and anthropic (Python): the SDK appends /v1/... itself; the key goes in x-api-key.
  { host: "api.anthropic.com", baseUrlVar: "ANTHROPIC_BASE_URL", basePath: "", apiKeyVar: "ANTHROPIC_API_KEY" },
  // groq-sdk and groq (Python): paths are /openai/v1/..., appended by the SDK.
  { host: "api.groq.com", baseUrlVar: "GROQ_BASE_URL", basePath: "", apiKeyVar: "GROQ_API_KEY" },
  // together-ai and together (Python): base URL includes /v1.
  { host: "api.together.xyz", baseUrlVar: "TOGETHER_BASE_URL", basePath: "/v1", apiKeyVar: "TOGETHER_API_KEY" },
];

/** A service's host as written may carry a port or a path glob (`slack.com/api/*`): the bare host. */
export function bareHost(host: string): string {
  return host.split("/")[0]?.split(":")[0]?.toLowerCase() ?? "";
}

/** `TOKEN_VAULT_SERVICE_<NAME>_URL`: every service's base URL, whatever its host. */
export function serviceVar(name: string): string {
  return `TOKEN_VAULT_SERVICE_${name.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_URL`;
}

/**
 * The variables for the child: the proxy, the agent token, every enabled service's base URL,
 * and for known providers their SDK's base URL and API key (the first service in declaration
 * order wins when several point at the same provider).
 */
export function runEnvironment(input: {
  url: string;
  vault: string;
  agentToken: string;
  services: readonly { name: string; host: string; enabled: boolean }[];
}): { env: Record<string, string>; providers: { service: string; baseUrlVar: string; apiKeyVar: string }[] } {
  const url = input.url.replace(/\/+$/, "");
  const env: Record<string, string> = {
    TOKEN_VAULT_URL: url,
    TOKEN_VAULT_VAULT: input.vault,
    TOKEN_VAULT_TOKEN: input.agentToken,
    TOKEN_VAULT_PROXY_URL: `${url}/proxy`,
  };
  const providers: { service: string; baseUrlVar: string; apiKeyVar: string }[] = [];
  for (const service of input.services) {
    if (!service.enabled) continue;
    const base = `${url}/s/${encodeURIComponent(service.name)}`;
    env[serviceVar(service.name)] ??= base;
    const provider = KNOWN_PROVIDERS.find((p) => p.host === bareHost(service.host));
    if (!provider || providers.some((p) => p.baseUrlVar === provider.baseUrlVar)) continue;
    env[provider.baseUrlVar] = base + provider.basePath;
    env[provider.apiKeyVar] = input.agentToken;
    providers.push({ service: service.name, baseUrlVar: provider.baseUrlVar, apiKeyVar: provider.apiKeyVar });
  }
  return { env, providers };
}
