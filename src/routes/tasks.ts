import { z } from "zod";
import { AppError } from "../errors";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { idParam, isoDate, PageQuery, Pagination } from "../http/schemas";
import { PLANS } from "../plans";
import { TASK_STATUSES } from "../tasks/model";
import { PollConfigInput, PROVIDER_NAMES, PROVIDERS } from "../tasks/providers";
import { cancelTask, createTask, listTasks, loadTask, waitForTask } from "../tasks/service";
import { taskView } from "../tasks/model";

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
export const TaskListQuery = PageQuery.extend({ status: z.enum(TASK_STATUSES).optional() });
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
export const TaskResponse = z.object({ task: Task });
export const TaskList = z.object({ tasks: z.array(Task), pagination: Pagination });

function capWait(plan: keyof typeof PLANS, wait: number) {
  const cap = PLANS[plan].maxWaitSeconds;
  if (wait > cap) throw new AppError("max_wait_exceeded", `wait exceeds the ${plan} plan's max wait time of ${cap} seconds`, { maxWaitSeconds: cap });
  return wait;
}

export const taskRoutes = [
  defineRoute({
    method: "POST",
    path: "/v1/tasks",
    tag: "Tasks",
    summary: "Create a task: an outbound HTTP call executed from the queue, with tok_ references resolved at execution",
    auth: "apiKey",
    scope: "tasks:write",
    body: CreateTaskBody,
    headers: IdempotencyHeaders,
    responses: {
      201: {
        description: "Created (or the first task again, for a repeated Idempotency-Key)",
        schema: TaskResponse,
        headers: { "Idempotent-Replayed": { description: "`true` when this is the first task again, for a repeated Idempotency-Key", schema: { type: "string", enum: ["true"] } } },
      },
    },
    errors: ["max_wait_exceeded", "url_not_allowed", "invalid_token_reference", "token_unavailable", "secret_expired", "credential_host_not_allowed", "idempotency_key_reused", "queue_unavailable"],
    handler: async ({ ctx, body, headers }) => {
      const { task, replayed } = await createTask(ctx, body, headers["idempotency-key"]);
      return json({ task }, 201, replayed ? { "Idempotent-Replayed": "true" } : {});
    },
  }),
  defineRoute({
    method: "GET",
    path: "/v1/tasks",
    tag: "Tasks",
    summary: "List tasks, newest first (bodies left out)",
    auth: "apiKey",
    scope: "tasks:read",
    query: TaskListQuery,
    responses: { 200: { description: "Tasks", schema: TaskList } },
    handler: async ({ ctx, query }) => json(await listTasks(ctx, query)),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/tasks/:id",
    tag: "Tasks",
    summary: "A task with its result; `?wait=N` long-polls up to N seconds for a final state",
    auth: "apiKey",
    scope: "tasks:read",
    params: TaskParams,
    query: TaskQuery,
    responses: { 200: { description: "The task", schema: TaskResponse } },
    errors: ["not_found", "access_denied", "max_wait_exceeded"],
    handler: async ({ ctx, params, query }) => {
      const row = query.wait ? await waitForTask(ctx, params.id, capWait(ctx.team.plan, query.wait)) : await loadTask(ctx, params.id);
      return json({ task: taskView(row) });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/v1/tasks/:id/cancel",
    tag: "Tasks",
    summary: "Cancel a pending or delayed task (409 otherwise)",
    auth: "apiKey",
    scope: "tasks:write",
    params: TaskParams,
    responses: { 200: { description: "Cancelled", schema: TaskResponse } },
    errors: ["not_found", "access_denied", "task_not_cancellable"],
    handler: async ({ ctx, params }) => json({ task: await cancelTask(ctx, params.id) }),
  }),
  defineRoute({
    method: "GET",
    path: "/v1/providers",
    tag: "Tasks",
    summary: "Provider templates (no authentication)",
    auth: "none",
    responses: { 200: { description: "Providers" } },
    handler: () => json({ providers: Object.values(PROVIDERS) }),
  }),
];
