import { z } from "zod";

/**
 * pollConfig: how a task that submits work to an asynchronous provider follows it to the end.
 * After the submit call succeeds the task enters `polling`; every `interval` seconds it GETs
 * the status URL (`urlTemplate`, rendered from the submit response) until the value at
 * `statusPath` is one of `doneValues` or `failValues`, or `maxDuration` seconds pass. When
 * done, the result is fetched from `resultUrlTemplate` if given (else the last status response
 * is the result) and `resultPath` picks the output from it.
 */
const pollFields = {
  urlTemplate: z.string().min(1).max(2048),
  interval: z.number().int().min(1).max(3600).describe("Seconds between status requests"),
  statusPath: z.string().min(1).max(200),
  doneValues: z.array(z.string().min(1).max(100)).min(1).max(20),
  failValues: z.array(z.string().min(1).max(100)).max(20),
  resultPath: z.string().min(1).max(200),
  resultUrlTemplate: z.string().min(1).max(2048),
  errorPath: z.string().min(1).max(200),
  forwardAuth: z
    .boolean()
    .describe("Resolve the submit request's tok_ credentials for poll requests to the same origin or the provider's documented hosts"),
  maxDuration: z.number().int().min(1).max(7 * 24 * 3600).describe("Seconds before a polling task ends as timeout"),
};

/** The complete, effective configuration. */
export const PollConfig = z.strictObject({
  ...pollFields,
  interval: pollFields.interval.default(5),
  failValues: pollFields.failValues.default([]),
  resultPath: pollFields.resultPath.optional(),
  resultUrlTemplate: pollFields.resultUrlTemplate.optional(),
  errorPath: pollFields.errorPath.optional(),
  forwardAuth: pollFields.forwardAuth.default(true),
  maxDuration: pollFields.maxDuration.default(3600),
});
/** What a request may send: any subset, laid over the provider's template (if any). */
export const PollConfigInput = z.strictObject(pollFields).partial().meta({ id: "PollConfig" });
export type PollConfig = z.output<typeof PollConfig>;

export interface ProviderTemplate {
  name: string;
  description: string;
  /** Hosts the provider documents for status/result URLs: credentials may go there. */
  hosts: string[];
  pollConfig: PollConfig;
}

export const PROVIDERS: Record<string, ProviderTemplate> = {
  fal: {
    name: "fal",
    description:
      "fal.ai queue API: submit to https://queue.fal.run/<model>, poll status_url (IN_QUEUE, IN_PROGRESS, COMPLETED), then fetch response_url. A failed request shows up as an error status on that result fetch. Auth header: `Authorization: Key tok_...`.",
    hosts: ["queue.fal.run", "fal.run"],
    pollConfig: {
      urlTemplate: "{startResult.body.status_url}",
      interval: 2,
      statusPath: "status",
      doneValues: ["COMPLETED"],
      failValues: [],
      resultUrlTemplate: "{startResult.body.response_url}",
      errorPath: "detail",
      forwardAuth: true,
      maxDuration: 3600,
    },
  },
  replicate: {
    name: "replicate",
    description:
      "Replicate predictions API: submit to https://api.replicate.com/v1/predictions, poll urls.get until status is succeeded, failed, canceled or aborted. Output is in `output`, failures in `error`. Auth header: `Authorization: Bearer tok_...`.",
    hosts: ["api.replicate.com"],
    pollConfig: {
      urlTemplate: "{startResult.body.urls.get}",
      interval: 2,
      statusPath: "status",
      doneValues: ["succeeded"],
      failValues: ["failed", "canceled", "aborted"],
      resultPath: "output",
      errorPath: "error",
      forwardAuth: true,
      maxDuration: 3600,
    },
  },
};

export const PROVIDER_NAMES = Object.keys(PROVIDERS) as [string, ...string[]];

/** A provider's template with the caller's own pollConfig fields laid over it. */
export function effectivePollConfig(provider: string | undefined, custom: Partial<PollConfig> | undefined): PollConfig | undefined {
  const template = provider ? PROVIDERS[provider]?.pollConfig : undefined;
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
  const hosts = provider ? PROVIDERS[provider]?.hosts ?? [] : [];
  return poll.protocol === "https:" && hosts.includes(poll.hostname.toLowerCase());
}
