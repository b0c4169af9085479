import { PollConfig, type Provider } from "./config";
import { fal } from "./fal";
import { replicate } from "./replicate";

export { PollConfig, PollConfigInput, type Provider } from "./config";

/** The provider table: a new provider is one file next to this one and one line here. */
export const PROVIDERS: Record<string, Provider> = { fal, replicate };

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [string, ...string[]];

export function providerNamed(name: string | null | undefined): Provider | undefined {
  return name && Object.hasOwn(PROVIDERS, name) ? PROVIDERS[name] : undefined;
}

/** A provider's template with the caller's own pollConfig fields laid over it. */
export function effectivePollConfig(provider: string | undefined, custom: Partial<PollConfig> | undefined): PollConfig | undefined {
  const template = providerNamed(provider)?.pollConfig;
  if (!template && !custom) return undefined;
  return PollConfig.parse({ ...template, ...custom });
}

/**
 * Credentials follow a poll only to the submit URL's origin or, over https, to the provider's
 * documented hosts: a status URL pointing anywhere else gets no credential.
 */
export function mayForwardCredentials(submitUrl: string, pollUrl: string, provider: string | undefined): boolean {
  const submit = new URL(submitUrl);
  const poll = new URL(pollUrl);
  if (poll.origin === submit.origin) return true;
  const hosts = providerNamed(provider)?.hosts ?? [];
  return poll.protocol === "https:" && hosts.includes(poll.hostname.toLowerCase());
}
