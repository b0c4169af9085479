import { describe, expect, it } from "vitest";
import {
  afterAttempt,
  afterResultFetch,
  afterStatusFetch,
  afterWebhookAttempt,
  onClaimLost,
  onDeadLetter,
  onDelivery,
  onPollDelivery,
  onWebhookDelivery,
  type AttemptOutcome,
  type FetchOutcome,
  type PollAgain,
  type PollProgress,
  type TaskState,
  type WebhookOutcome,
  type WebhookTask,
} from "../src/tasks/decide";
import { FINAL_STATUSES, TASK_STATUSES, type TaskResult, type TaskStatus } from "../src/tasks/model";
import { PollConfig, PROVIDERS, effectivePollConfig } from "../src/tasks/providers";
import { TRANSITIONS } from "../src/tasks/transitions";

/**
 * The task state machine's decisions, table by table: a task's state and an outcome in, the
 * next step out. Pure functions, so no queue, D1 or upstream is involved.
 */
const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const task = (over: Partial<TaskState> = {}): TaskState => ({
  status: "processing",
  run_at: iso(NOW),
  lease_until: null,
  attempts: 1,
  max_retries: 0,
  retry_backoff: "exponential",
  timeout_s: 30,
  provider: null,
  poll_config: null,
  poll_state: null,
  ...over,
});

const result = (statusCode: number, body = "", headers: Record<string, string> = {}): TaskResult => ({ statusCode, headers, body, truncated: false, durationMs: 7 });
const answer = (statusCode: number, body: unknown = "", headers: Record<string, string> = {}) => {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return { kind: "response" as const, result: result(statusCode, text, headers), body: text, retryAfter: headers["retry-after"] };
};

const FAL = effectivePollConfig("fal", undefined)!;
const REPLICATE = effectivePollConfig("replicate", undefined)!;
const CUSTOM = effectivePollConfig(undefined, { urlTemplate: "{startResult.body.status}", statusPath: "state", doneValues: ["done", "3"], resultUrlTemplate: "{status.result}", errorPath: "why", forwardAuth: false })!;
const START = { statusCode: 202, headers: {}, body: { status_url: "https://queue.fal.run/r/1/status", response_url: "https://queue.fal.run/r/1", urls: { get: "https://api.replicate.com/v1/predictions/p1" }, status: "https://api.example.com/s/1" } };
const progress = (over: Partial<PollProgress> = {}): PollProgress => ({ startedAt: iso(NOW - 10_000), polls: 3, startResult: START, ...over });
const polling = (config: PollConfig, provider: string | null, state: Partial<PollProgress> = {}) =>
  task({ status: "polling", provider, poll_config: JSON.stringify(config), poll_state: JSON.stringify(progress(state)) });

describe("a task.execute message arrives", () => {
  const cases: [string, Partial<TaskState>, ReturnType<typeof onDelivery>][] = [
    ["pending and due: claim it", { status: "pending" }, { step: "claim" }],
    ["delayed and due within a second: claim it", { status: "delayed", run_at: iso(NOW + 900) }, { step: "claim" }],
    ["processing (its lease may have run out): try the claim", { status: "processing" }, { step: "claim" }],
    ["not due: queue it again for when it is", { status: "delayed", run_at: iso(NOW + 90_500) }, { step: "defer", afterSeconds: 91 }],
    ["due beyond the queue's longest delay: the longest delay", { status: "delayed", run_at: iso(NOW + 3 * 24 * 3600_000) }, { step: "defer", afterSeconds: 12 * 3600 }],
    ["polling: the poll messages carry it", { status: "polling" }, { step: "nothing" }],
    ...FINAL_STATUSES.map((status): [string, Partial<TaskState>, ReturnType<typeof onDelivery>] => [`${status}: nothing`, { status }, { step: "nothing" }]),
  ];
  it.each(cases)("%s", (_name, state, step) => {
    expect(onDelivery(task(state), NOW)).toEqual(step);
  });
});

describe("the claim finds the task taken or gone", () => {
  const cases: [string, Partial<TaskState>, ReturnType<typeof onClaimLost>][] = [
    ["another consumer holds the lease: look again once it runs out", { status: "processing", lease_until: iso(NOW + 29_500) }, { step: "wait", afterSeconds: 31 }],
    ["a lease that just ran out: look again in a second", { status: "processing", lease_until: iso(NOW - 5000) }, { step: "wait", afterSeconds: 1 }],
    ["cancelled meanwhile", { status: "cancelled" }, { step: "nothing" }],
    ["finished meanwhile", { status: "completed" }, { step: "nothing" }],
  ];
  it.each(cases)("%s", (_name, state, step) => {
    expect(onClaimLost(task(state), NOW)).toEqual(step);
  });
});

describe("an attempt of the main call", () => {
  const retries = { max_retries: 3 };
  const cases: [string, Partial<TaskState>, AttemptOutcome, ReturnType<typeof afterAttempt>][] = [
    ["2xx completes", {}, answer(200, "ok"), { step: "finish", status: "completed", error: null, result: result(200, "ok") }],
    ["4xx completes too: the target answered", retries, answer(404, "no"), { step: "finish", status: "completed", error: null, result: result(404, "no") }],
    ["5xx without retries left fails, keeping the answer", {}, answer(500, "down"), { step: "finish", status: "failed", error: "Target answered 500", result: result(500, "down") }],
    ["5xx with retries left: exponential backoff 1 s", retries, answer(502), { step: "retry", afterSeconds: 1, error: "Target answered 502", result: result(502) }],
    ["5xx on attempt 3 of 4: exponential backoff 4 s", { max_retries: 3, attempts: 3 }, answer(503), { step: "retry", afterSeconds: 4, error: "Target answered 503", result: result(503) }],
    ["linear backoff on attempt 3: 3 s", { max_retries: 3, attempts: 3, retry_backoff: "linear" }, answer(503), { step: "retry", afterSeconds: 3, error: "Target answered 503", result: result(503) }],
    ["429 with Retry-After seconds", retries, answer(429, "", { "retry-after": "7" }), { step: "retry", afterSeconds: 7, error: "Target answered 429", result: result(429, "", { "retry-after": "7" }) }],
    [
      "429 with a Retry-After date",
      retries,
      answer(429, "", { "retry-after": new Date(NOW + 20_000).toUTCString() }),
      { step: "retry", afterSeconds: 20, error: "Target answered 429", result: result(429, "", { "retry-after": new Date(NOW + 20_000).toUTCString() }) },
    ],
    ["Retry-After is bounded to an hour", retries, answer(503, "", { "retry-after": "86400" }), { step: "retry", afterSeconds: 3600, error: "Target answered 503", result: result(503, "", { "retry-after": "86400" }) }],
    ["a timeout with retries left retries", retries, { kind: "timeout" }, { step: "retry", afterSeconds: 1, error: "Attempt timed out after 30 s", result: null }],
    ["the last attempt timing out ends as timeout", {}, { kind: "timeout" }, { step: "finish", status: "timeout", error: "Attempt timed out after 30 s", result: null }],
    ["a network error with retries left retries", retries, { kind: "network", message: "connection reset" }, { step: "retry", afterSeconds: 1, error: "Network error: connection reset", result: null }],
    ["the last network error fails", {}, { kind: "network", message: "connection reset" }, { step: "finish", status: "failed", error: "Network error: connection reset", result: null }],
    ["blocked by the URL policy fails at once, retries or not", retries, { kind: "blocked", message: "target URL is private" }, { step: "finish", status: "failed", error: "target URL is private", result: null }],
    [
      "references no longer available: fails, nothing sent",
      retries,
      { kind: "references_unavailable", tokenIds: ["tok_a", "tok_b"] },
      { step: "finish", status: "failed", error: "Token reference tok_a, tok_b is revoked or no longer available; no request was made", result: null },
    ],
    ["a reference that cannot be decrypted: fails, nothing sent", retries, { kind: "undecryptable", tokenId: "tok_c" }, { step: "finish", status: "failed", error: "Token reference tok_c could not be decrypted; no request was made", result: null }],
    [
      "a polling task's 2xx submit starts polling after the interval",
      { poll_config: JSON.stringify(FAL) },
      answer(202, { request_id: "r1" }),
      { step: "startPolling", afterSeconds: 2, result: result(202, '{"request_id":"r1"}'), state: { startedAt: iso(NOW), polls: 0, startResult: { statusCode: 202, headers: {}, body: { request_id: "r1" } } } },
    ],
    [
      "a submit answer that is not JSON is kept as text for the templates",
      { poll_config: JSON.stringify(FAL) },
      answer(200, "accepted"),
      { step: "startPolling", afterSeconds: 2, result: result(200, "accepted"), state: { startedAt: iso(NOW), polls: 0, startResult: { statusCode: 200, headers: {}, body: "accepted" } } },
    ],
    ["a polling task's 4xx submit completes without polling", { poll_config: JSON.stringify(FAL) }, answer(401, "no"), { step: "finish", status: "completed", error: null, result: result(401, "no") }],
    ["a polling task's 5xx submit is retried like any other", { poll_config: JSON.stringify(FAL), ...retries }, answer(500), { step: "retry", afterSeconds: 1, error: "Target answered 500", result: result(500) }],
  ];
  it.each(cases)("%s", (_name, state, outcome, step) => {
    expect(afterAttempt(task(state), outcome, NOW)).toEqual(step);
  });
});

describe("a task.poll message arrives", () => {
  const cases: [string, TaskState, number | undefined, ReturnType<typeof onPollDelivery>][] = [
    ["fal: ask the status URL from the submit answer", polling(FAL, "fal"), 3, { step: "fetch", target: "status", url: START.body.status_url, forwardAuth: true }],
    ["replicate: ask urls.get", polling(REPLICATE, "replicate"), undefined, { step: "fetch", target: "status", url: START.body.urls.get, forwardAuth: true }],
    ["custom config without forwarded credentials", polling(CUSTOM, null), 3, { step: "fetch", target: "status", url: START.body.status, forwardAuth: false }],
    ["a stale poll number (a duplicate message) does nothing", polling(FAL, "fal"), 2, { step: "nothing" }],
    ["a task no longer polling does nothing", { ...polling(FAL, "fal"), status: "completed" }, 3, { step: "nothing" }],
    ["a task without poll state does nothing", { ...polling(FAL, "fal"), poll_state: null }, 3, { step: "nothing" }],
    [
      "past maxDuration: timeout",
      polling({ ...FAL, maxDuration: 60 }, "fal", { startedAt: iso(NOW - 61_000) }),
      3,
      { step: "finish", status: "timeout", error: "Provider did not finish within maxDuration (60 s)", result: null },
    ],
    [
      "a status URL the submit answer lacks: fails",
      polling(FAL, "fal", { startResult: { statusCode: 200, headers: {}, body: {} } }),
      3,
      { step: "finish", status: "failed", error: "template field {startResult.body.status_url} is missing from the provider's response", result: null },
    ],
  ];
  it.each(cases)("%s", (_name, state, expected, step) => {
    expect(onPollDelivery(state, expected, NOW)).toEqual(step);
  });
});

describe("the status answer of a poll", () => {
  const again = (state: Partial<PollProgress>): PollAgain => ({ step: "pollAgain", afterSeconds: 2, state: progress(state) });
  const cases: [string, TaskState, FetchOutcome, ReturnType<typeof afterStatusFetch>][] = [
    ["fal still running: poll again, errors reset", polling(FAL, "fal", { errors: 2 }), answer(202, { status: "IN_PROGRESS" }), again({ polls: 4, errors: 0, lastStatus: "IN_PROGRESS" })],
    ["fal done: fetch the result", polling(FAL, "fal"), answer(200, { status: "COMPLETED" }), { step: "fetch", target: "result", url: START.body.response_url, forwardAuth: true }],
    [
      "replicate succeeded: the document is the result, output picked",
      polling(REPLICATE, "replicate"),
      answer(200, { status: "succeeded", output: ["https://x/out.png"] }),
      { step: "finish", status: "completed", error: null, result: { ...result(200, '{"status":"succeeded","output":["https://x/out.png"]}'), output: ["https://x/out.png"] } },
    ],
    [
      "replicate succeeded without output: output null",
      polling(REPLICATE, "replicate"),
      answer(200, { status: "succeeded" }),
      { step: "finish", status: "completed", error: null, result: { ...result(200, '{"status":"succeeded"}'), output: null } },
    ],
    ["replicate failed: the provider's error", polling(REPLICATE, "replicate"), answer(200, { status: "failed", error: "CUDA out of memory" }), { step: "finish", status: "failed", error: "Provider reported failed: CUDA out of memory", result: result(200, '{"status":"failed","error":"CUDA out of memory"}') }],
    ["replicate canceled with a null error", polling(REPLICATE, "replicate"), answer(200, { status: "canceled", error: null }), { step: "finish", status: "failed", error: "Provider reported canceled", result: result(200, '{"status":"canceled","error":null}') }],
    ["a structured error is given as JSON", polling(REPLICATE, "replicate"), answer(200, { status: "aborted", error: { code: 9 } }), { step: "finish", status: "failed", error: 'Provider reported aborted: {"code":9}', result: result(200, '{"status":"aborted","error":{"code":9}}') }],
    ["a numeric status is compared as text", polling(CUSTOM, null), answer(200, { state: 3, result: "https://api.example.com/r/1" }), { step: "fetch", target: "result", url: "https://api.example.com/r/1", forwardAuth: false }],
    ["done, but the result URL template finds nothing: fails", polling(CUSTOM, null), answer(200, { state: "done" }), { step: "finish", status: "failed", error: "template field {status.result} is missing from the provider's response", result: null }],
    ["no status in the answer: a poll error", polling(FAL, "fal"), answer(200, { other: 1 }), again({ polls: 4, errors: 1 })],
    ["an answer that is not JSON: a poll error", polling(FAL, "fal", { errors: 4 }), answer(200, "<html>"), { step: "finish", status: "failed", error: "Polling failed 5 times in a row (last: no status in the status answer)", result: null }],
    ["5xx: a poll error", polling(FAL, "fal"), answer(503), again({ polls: 4, errors: 1 })],
    ["429, the fifth error in a row: fails", polling(FAL, "fal", { errors: 4 }), answer(429), { step: "finish", status: "failed", error: "Polling failed 5 times in a row (last: status request answered 429)", result: null }],
    ["4xx: fails with the answer", polling(FAL, "fal"), answer(404, "gone"), { step: "finish", status: "failed", error: "Status request answered 404", result: result(404, "gone") }],
    ["a timeout: a poll error", polling(FAL, "fal", { lastStatus: "IN_QUEUE" }), { kind: "timeout" }, again({ polls: 4, errors: 1, lastStatus: "IN_QUEUE" })],
    ["a network error, the fifth in a row: fails", polling(FAL, "fal", { errors: 4 }), { kind: "network", message: "reset" }, { step: "finish", status: "failed", error: "Polling failed 5 times in a row (last: network)", result: null }],
    ["blocked by the URL policy: fails", polling(FAL, "fal"), { kind: "blocked", message: "is private" }, { step: "finish", status: "failed", error: "status URL is private", result: null }],
    ["references gone: fails", polling(FAL, "fal"), { kind: "references_unavailable", tokenIds: ["tok_a"] }, { step: "finish", status: "failed", error: "status URL needs tok_a, which is revoked or no longer available", result: null }],
  ];
  it.each(cases)("%s", (_name, state, outcome, step) => {
    expect(afterStatusFetch(state, outcome)).toEqual(step);
  });
});

describe("the result answer of a poll", () => {
  const falError = { "x-fal-error-type": "internal_error" };
  const cases: [string, TaskState, FetchOutcome, ReturnType<typeof afterResultFetch>][] = [
    ["fal 200: completes with the result document", polling(FAL, "fal"), answer(200, { images: [] }), { step: "finish", status: "completed", error: null, result: result(200, '{"images":[]}') }],
    ["fal 422: fails with the provider's detail", polling(FAL, "fal"), answer(422, { detail: "bad prompt" }), { step: "finish", status: "failed", error: "Provider result answered 422: bad prompt", result: result(422, '{"detail":"bad prompt"}') }],
    ["fal 500 marked as the job's failure: fails at once", polling(FAL, "fal"), answer(500, { detail: "model crashed" }, falError), { step: "finish", status: "failed", error: "Provider result answered 500: model crashed", result: result(500, '{"detail":"model crashed"}', falError) }],
    ["fal 503 without the mark: an outage, poll again", polling(FAL, "fal"), answer(503), { step: "pollAgain", afterSeconds: 2, state: progress({ polls: 4, errors: 1 }) }],
    ["the fal mark means nothing to another provider", polling(CUSTOM, null), answer(500, "", falError), { step: "pollAgain", afterSeconds: 5, state: progress({ polls: 4, errors: 1 }) }],
    ["4xx without detail", polling(CUSTOM, null), answer(410, "gone"), { step: "finish", status: "failed", error: "Provider result answered 410", result: result(410, "gone") }],
    ["a timeout, the fifth in a row: fails", polling(FAL, "fal", { errors: 4 }), { kind: "timeout" }, { step: "finish", status: "failed", error: "Polling failed 5 times in a row (last: result fetch timeout)", result: null }],
    ["blocked by the URL policy: fails", polling(FAL, "fal"), { kind: "blocked", message: "redirect target is private" }, { step: "finish", status: "failed", error: "result URL redirect target is private", result: null }],
    ["references gone: fails", polling(FAL, "fal"), { kind: "references_unavailable", tokenIds: ["tok_a"] }, { step: "finish", status: "failed", error: "result URL needs tok_a, which is revoked or no longer available", result: null }],
  ];
  it.each(cases)("%s", (_name, state, outcome, step) => {
    expect(afterResultFetch(state, outcome)).toEqual(step);
  });
});

it("a dead-lettered message fails its task", () => {
  expect(onDeadLetter()).toEqual({ step: "finish", status: "failed", error: "Task could not be processed (message dead-lettered after repeated errors)", result: null });
});

describe("the completion webhook", () => {
  const hook = (over: Partial<WebhookTask>): WebhookTask => ({ status: "completed", on_complete_url: "https://hooks.example.com/x", webhook_status: "pending", webhook_attempts: 0, ...over });
  const arrivals: [string, WebhookTask, ReturnType<typeof onWebhookDelivery>][] = [
    ["owed: deliver the event", hook({ webhook_attempts: 2 }), { step: "deliver", url: "https://hooks.example.com/x", event: "task.completed", attempt: 3 }],
    ["a timeout event", hook({ status: "timeout" }), { step: "deliver", url: "https://hooks.example.com/x", event: "task.timeout", attempt: 1 }],
    ["queued before the final state was written: wait for it", hook({ status: "processing", webhook_status: null }), { step: "wait", afterSeconds: 5 }],
    ["already delivered", hook({ webhook_status: "delivered" }), { step: "nothing" }],
    ["no onCompleteUrl", hook({ on_complete_url: null }), { step: "nothing" }],
    ["a cancelled task has no event", hook({ status: "cancelled" }), { step: "nothing" }],
  ];
  it.each(arrivals)("arrives: %s", (_name, state, step) => {
    expect(onWebhookDelivery(state)).toEqual(step);
  });

  const attempts: [string, number, WebhookOutcome, ReturnType<typeof afterWebhookAttempt>][] = [
    ["2xx: delivered", 1, { kind: "response", status: 204 }, { step: "webhook", status: "delivered", attempts: 1, error: null, retryAfterSeconds: null }],
    ["5xx: again after 2^attempt s", 2, { kind: "response", status: 500 }, { step: "webhook", status: "pending", attempts: 2, error: "Webhook endpoint answered 500", retryAfterSeconds: 4 }],
    ["the last attempt fails it", 5, { kind: "response", status: 500 }, { step: "webhook", status: "failed", attempts: 5, error: "Webhook endpoint answered 500", retryAfterSeconds: null }],
    ["a timeout: again", 1, { kind: "timeout" }, { step: "webhook", status: "pending", attempts: 1, error: "Webhook delivery failed (timeout)", retryAfterSeconds: 2 }],
    ["a redirect the URL policy blocks: again", 1, { kind: "blocked" }, { step: "webhook", status: "pending", attempts: 1, error: "Webhook delivery failed (blocked)", retryAfterSeconds: 2 }],
    ["an onCompleteUrl the policy refuses: failed at once", 1, { kind: "refused", reason: "is private" }, { step: "webhook", status: "failed", attempts: 1, error: "onCompleteUrl is private", retryAfterSeconds: null }],
  ];
  it.each(attempts)("attempt: %s", (_name, attempt, outcome, step) => {
    expect(afterWebhookAttempt(attempt, outcome)).toEqual(step);
  });
});

describe("the transition table", () => {
  const all = Object.values(TRANSITIONS);
  it("never leaves a final status, but for the retry a person asks for", () => {
    const { reopen, ...automatic } = TRANSITIONS;
    for (const { from } of Object.values(automatic)) for (const status of from) expect(FINAL_STATUSES).not.toContain(status);
    // POST /v1/tasks/:id/retry (issue 16): only a failed or timed-out task, back to pending; completed and cancelled stay final.
    expect(reopen).toEqual({ from: ["failed", "timeout"], to: ["pending"] });
  });
  it("lets every non-final status end", () => {
    const open = TASK_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));
    expect([...TRANSITIONS.finish.from].sort()).toEqual([...open].sort());
  });
  it("reaches every status but delayed, which a task is only created in", () => {
    const reached = new Set<TaskStatus>(all.flatMap(({ to }) => [...to]));
    expect(TASK_STATUSES.filter((s) => !reached.has(s)).sort()).toEqual(["delayed"]);
  });
});

describe("the provider table", () => {
  it.each(Object.entries(PROVIDERS))("%s: a valid template under its own name, serialized without its rules", (name, provider) => {
    expect(provider.name).toBe(name);
    expect(PollConfig.parse(provider.pollConfig)).toEqual(provider.pollConfig);
    // GET /v1/providers serves the table as is: only the template's data goes out.
    expect(Object.keys(JSON.parse(JSON.stringify(provider)))).toEqual(["name", "description", "hosts", "pollConfig"]);
  });
});
