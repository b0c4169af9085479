import type { z } from "zod";
import type { CreateTaskBody, Task as TaskSchema, TaskDetail as TaskDetailSchema, TaskList as TaskListSchema, TaskListQuery as TaskListQuerySchema } from "../api/tasks";
import { FINAL_STATUSES, type TaskStatus } from "../tasks/model";
import { VaultError } from "./errors";
import { seg, type Transport } from "./http";
import { iteratePages } from "./pages";

export type Task = z.output<typeof TaskSchema>;
/** A task with its runs and every attempt (`GET /v1/tasks/:id`, retry). */
export type TaskDetail = z.output<typeof TaskDetailSchema>;
export type TaskList = z.output<typeof TaskListSchema>;
export type CreateTaskInput = z.input<typeof CreateTaskBody>;
/** Filters (`status`, `provider`, `createdAfter`, `createdBefore`) and paging. */
export type TaskListQuery = Partial<z.output<typeof TaskListQuerySchema>>;
export type { TaskStatus };

export interface CreateTaskOptions {
  /** Repeating a create with the same key (within 24 h) returns the first task instead of a new one. */
  idempotencyKey?: string;
}

export interface WaitOptions {
  /** Give up after this long (default 60 s): `VaultError` with code `wait_timeout`. */
  timeoutMs?: number;
  /**
   * Longest single long-poll, in seconds (default 30, the Free plan's max wait time; Pro
   * allows 120). A lower plan limit answered by the server is adopted automatically.
   */
  pollSeconds?: number;
  signal?: AbortSignal;
}

const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_POLL_SECONDS = 30;

export const isFinalStatus = (status: string): boolean => (FINAL_STATUSES as readonly string[]).includes(status);

/** /v1/tasks (seed 000): outbound calls executed from the queue, with `tok_` references resolved. */
export class Tasks {
  constructor(private readonly http: Transport) {}

  async create(input: CreateTaskInput, options: CreateTaskOptions = {}): Promise<Task> {
    const headers: Record<string, string> = options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {};
    return (await this.http.request<{ task: Task }>("POST", "/v1/tasks", { auth: "apiKey", body: input, headers })).data.task;
  }

  /** The task; with `wait`, the server holds the request up to that many seconds for a final state. */
  async get(id: string, options: { wait?: number; signal?: AbortSignal } = {}): Promise<TaskDetail> {
    return (await this.http.request<{ task: TaskDetail }>("GET", `/v1/tasks/${seg(id)}`, { auth: "apiKey", query: { wait: options.wait }, signal: options.signal })).data.task;
  }

  async list(query: TaskListQuery = {}): Promise<TaskList> {
    return (await this.http.request<TaskList>("GET", "/v1/tasks", { auth: "apiKey", query })).data;
  }

  iterate(query: Omit<TaskListQuery, "cursor" | "offset"> = {}): AsyncGenerator<Task, void, undefined> {
    return iteratePages(async (q: TaskListQuery) => {
      const page = await this.list(q);
      return { items: page.tasks, pagination: page.pagination };
    }, query);
  }

  /** Runs a failed, timed-out or dead-lettered task again as a new run (`task_not_retryable` otherwise). */
  async retry(id: string): Promise<TaskDetail> {
    return (await this.http.request<{ task: TaskDetail }>("POST", `/v1/tasks/${seg(id)}/retry`, { auth: "apiKey" })).data.task;
  }

  /** Cancels a pending or delayed task (`task_not_cancellable` otherwise). */
  async cancel(id: string): Promise<Task> {
    return (await this.http.request<{ task: Task }>("POST", `/v1/tasks/${seg(id)}/cancel`, { auth: "apiKey" })).data.task;
  }

  /**
   * The task once it is final (completed, failed, timeout, cancelled), by repeated long-polls
   * (`?wait=`), so no request is made while nothing changes. A final `failed` is returned, not
   * thrown: the task's outcome is data, only the wait itself can fail.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Task> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_WAIT_MS);
    let pollSeconds = options.pollSeconds ?? DEFAULT_POLL_SECONDS;
    for (;;) {
      const remaining = Math.ceil((deadline - Date.now()) / 1000);
      let task: Task;
      try {
        task = await this.get(id, { wait: Math.max(1, Math.min(pollSeconds, remaining)), signal: options.signal });
      } catch (error) {
        // The plan's limit is lower than asked: ask again within it.
        const limit = error instanceof VaultError && error.code === "max_wait_exceeded" ? error.details.maxWaitSeconds : undefined;
        if (typeof limit === "number" && limit >= 1 && limit < pollSeconds) {
          pollSeconds = limit;
          continue;
        }
        throw error;
      }
      if (isFinalStatus(task.status)) return task;
      if (Date.now() >= deadline) {
        throw new VaultError({ status: 0, code: "wait_timeout", message: `Task ${id} is still ${task.status}`, details: { taskId: id, status: task.status } });
      }
    }
  }
}
