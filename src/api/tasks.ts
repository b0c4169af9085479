import { z } from "zod";
import { TASK_STATUSES } from "../tasks/model";
import { PollConfigInput, PROVIDER_NAMES } from "../tasks/providers";
import { idParam, isoDate, PageQuery, Pagination } from "./common";

/** Schemas of the /v1/tasks routes (seed 000). */

const MAX_DELAY_SECONDS = 7 * 24 * 3600;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export const CreateTaskBody = z
  .strictObject({
    targetUrl: z.string().min(1).max(2048),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    headers: z
      .record(z.string().regex(HEADER_NAME, "must be a valid header name").max(256), z.string().max(8192).refine((v) => !/[\r\n\0]/.test(v), "must not contain CR, LF or NUL"))
      .refine((h) => Object.keys(h).length <= 64, "at most 64 headers")
      .default({})
      .describe("Header values may be, or contain as a word, tok_ references (e.g. `Bearer tok_...`); they are resolved at execution"),
    body: z.string().max(256 * 1024).optional().describe("Sent as is (ignored for GET); tok_ references in bodies are NOT resolved"),
    provider: z.enum(PROVIDER_NAMES).optional(),
    pollConfig: PollConfigInput.optional(),
    timeout: z.number().int().min(1).default(30).describe("Seconds per attempt; at most the plan's max wait time"),
    maxRetries: z.number().int().min(0).max(10).default(3),
    retryBackoff: z.enum(["exponential", "linear"]).default("exponential"),
    delay: z.number().int().min(0).max(MAX_DELAY_SECONDS).optional().describe("Seconds to wait before the first attempt"),
    delayUntil: z.iso.datetime({ offset: true }).optional().describe("ISO time of the first attempt"),
    onCompleteUrl: z.string().min(1).max(2048).optional(),
  })
  .superRefine((task, ctx) => {
    if (task.delay !== undefined && task.delayUntil !== undefined) {
      ctx.addIssue({ code: "custom", path: ["delayUntil"], message: "give either delay or delayUntil, not both" });
    }
    if (task.delayUntil !== undefined && Date.parse(task.delayUntil) > Date.now() + MAX_DELAY_SECONDS * 1000) {
      ctx.addIssue({ code: "custom", path: ["delayUntil"], message: "must be within 7 days" });
    }
    if (task.pollConfig && !task.provider) {
      for (const field of ["urlTemplate", "statusPath", "doneValues"] as const) {
        if (task.pollConfig[field] === undefined) ctx.addIssue({ code: "custom", path: ["pollConfig", field], message: "is required without a provider" });
      }
    }
  });
export type CreateTaskBody = z.input<typeof CreateTaskBody>;

export const TaskParams = z.object({ id: idParam("task") });
export const TaskQuery = z.object({ wait: z.coerce.number().int().min(0).optional().describe("Long-poll: seconds to wait for a final state") });
export const TaskListQuery = PageQuery.extend({
  status: z.enum(TASK_STATUSES).optional(),
  provider: z.enum(PROVIDER_NAMES).optional().describe("Only tasks created with this provider template"),
  createdAfter: z.iso.datetime({ offset: true }).optional().describe("Only tasks created at or after this ISO date-time"),
  createdBefore: z.iso.datetime({ offset: true }).optional().describe("Only tasks created before this ISO date-time"),
});
export const IdempotencyHeaders = z.object({
  "idempotency-key": z.string().min(1).max(255).optional().describe("Repeating a create with the same key (within 24 h) returns the first task instead of a new one"),
});

const TaskResultSchema = z.object({
  statusCode: z.number(),
  headers: z.record(z.string(), z.string()),
  body: z.string(),
  truncated: z.boolean(),
  durationMs: z.number(),
  output: z.unknown().optional(),
});
export const Task = z
  .object({
    id: z.string(),
    status: z.enum(TASK_STATUSES),
    method: z.string(),
    targetUrl: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().nullable().optional(),
    provider: z.string().nullable(),
    pollConfig: z.record(z.string(), z.unknown()).nullable(),
    timeout: z.number(),
    maxRetries: z.number(),
    retryBackoff: z.enum(["exponential", "linear"]),
    onCompleteUrl: z.string().nullable(),
    attempts: z.number(),
    error: z.string().nullable(),
    result: TaskResultSchema.partial().nullable(),
    scheduledFor: isoDate,
    createdAt: isoDate,
    updatedAt: isoDate,
    startedAt: isoDate.nullable(),
    completedAt: isoDate.nullable(),
  })
  .catchall(z.unknown())
  .meta({ id: "Task" });
export const TaskAttempt = z
  .object({
    run: z.number().int().describe("1, plus one per retry of the whole task (POST /v1/tasks/:id/retry)"),
    attempt: z.number().int().describe("1-based within its run"),
    startedAt: isoDate,
    finishedAt: isoDate.nullable().describe("null: still running, or abandoned by a consumer that stopped"),
    durationMs: z.number().int().nullable(),
    statusCode: z.number().int().nullable().describe("The target's answer; null when none came (timeout, network error, refused)"),
    error: z.string().nullable().describe("Why the attempt failed (redacted like results)"),
  })
  .meta({ id: "TaskAttempt" });
export const TaskDetail = Task.extend({
  runs: z.number().int().describe("How many times the task has been run: 1, plus one per retry"),
  attemptHistory: z.array(TaskAttempt).describe("Every attempt of every run, oldest first (`attempts` counts the current run's)"),
}).meta({ id: "TaskDetail" });
export const TaskResponse = z.object({ task: Task });
export const TaskDetailResponse = z.object({ task: TaskDetail });
export const TaskList = z.object({ tasks: z.array(Task), pagination: Pagination });
