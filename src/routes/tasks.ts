import { AppError } from "../errors";
import { json } from "../http/errors";
import { defineRoute } from "../http/route";
import { CreateTaskBody, IdempotencyHeaders, TaskDetailResponse, TaskList, TaskListQuery, TaskParams, TaskQuery, TaskResponse } from "../api/tasks";
import { PLANS } from "../plans";
import { PROVIDERS } from "../tasks/providers";
import { cancelTask, createTask, listTasks, loadTaskWithHistory, retryTask, waitForTaskWithHistory } from "../tasks/service";

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
    summary: "List tasks, newest first (bodies left out); filter by status, provider and creation time",
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
    summary: "A task with its result and every attempt; `?wait=N` long-polls up to N seconds for a final state",
    auth: "apiKey",
    scope: "tasks:read",
    params: TaskParams,
    query: TaskQuery,
    responses: { 200: { description: "The task", schema: TaskDetailResponse } },
    errors: ["not_found", "access_denied", "max_wait_exceeded"],
    handler: async ({ ctx, params, query }) => {
      const task = query.wait ? await waitForTaskWithHistory(ctx, params.id, capWait(ctx.team.plan, query.wait)) : await loadTaskWithHistory(ctx, params.id);
      return json({ task });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/v1/tasks/:id/retry",
    tag: "Tasks",
    summary: "Run a failed, timed-out or dead-lettered task again: the same task, a new run, its references and URLs checked again (409 in another state)",
    auth: "apiKey",
    scope: "tasks:write",
    params: TaskParams,
    responses: { 200: { description: "Re-opened (pending), with its attempt history", schema: TaskDetailResponse } },
    errors: ["not_found", "access_denied", "task_not_retryable", "url_not_allowed", "token_unavailable"],
    handler: async ({ ctx, params }) => json({ task: await retryTask(ctx, params.id) }),
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
