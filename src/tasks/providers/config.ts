import { z } from "zod";
import type { TaskResult } from "../model";

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

/**
 * A provider: its public template (served as is by GET /v1/providers; function members do not
 * serialize) and the few rules of its API that a pollConfig cannot express, which the decision
 * functions (../decide.ts) ask it.
 */
export interface Provider {
  name: string;
  description: string;
  /** Hosts the provider documents for status/result URLs: credentials may go there. */
  hosts: string[];
  /** The template: status document, done/fail values, status and result URL templates. */
  pollConfig: PollConfig;
  /**
   * Whether a 5xx/429 answer of the result fetch is the provider's verdict on the job (the task
   * fails with it) rather than a passing outage (the status is asked again). Absent: an outage.
   */
  isJobFailure?(answer: TaskResult): boolean;
}
