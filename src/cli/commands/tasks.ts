import type { Command } from "commander";
import type { CreateTaskInput, Task, TaskListQuery, Vault } from "../../client/index";
import type { Ctx } from "../context";
import { UsageError } from "../errors";
import type { Io } from "../io";
import { action, example } from "../program";
import { withSpinner } from "../spinner";
import { collect, intOption } from "./options";

const columns = [
  { header: "ID", value: (t: Task) => t.id },
  { header: "STATUS", value: (t: Task) => t.status },
  { header: "METHOD", value: (t: Task) => t.method },
  { header: "TARGET", value: (t: Task) => t.targetUrl },
  { header: "ATTEMPTS", value: (t: Task) => t.attempts },
  { header: "CREATED", value: (t: Task) => t.createdAt },
];

function headers(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, item] of (list ?? []).entries()) {
    const colon = item.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header ${i + 1}: expected "Name: value"`);
    out[item.slice(0, colon).trim()] = item.slice(colon + 1).trim();
  }
  return out;
}

/** The final status, the error and the upstream's answer, for people. */
function showTask(ctx: Ctx, task: Task): void {
  const paint = ctx.out.out;
  const status = task.status === "completed" ? paint.green(task.status) : ["failed", "timeout"].includes(task.status) ? paint.red(task.status) : task.status;
  ctx.out.fields([
    ["id", task.id],
    ["status", status],
    ["target", `${task.method} ${task.targetUrl}`],
    ["attempts", task.attempts],
    ["error", task.error],
    ["result", task.result ? `HTTP ${task.result.statusCode ?? "?"}${task.result.truncated ? " (body truncated)" : ""}` : null],
  ]);
  if (task.result?.body) ctx.out.line(task.result.body);
}

async function waitFor(ctx: Ctx, client: Vault, id: string, timeoutSeconds: number): Promise<Task> {
  return withSpinner(ctx.io, `waiting for ${id}`, client.tasks.wait(id, { timeoutMs: timeoutSeconds * 1000 }));
}

/** `task ...`: seed 000's /v1/tasks (API key). */
export function registerTasks(program: Command, io: Io): void {
  const task = program.command("task").description("tasks: outbound HTTP calls run from the queue, with tok_ references resolved");
  example(task, "token-vault task create --url https://api.example.com/v1/run --wait", "token-vault task list --status failed");

  example(
    task
      .command("create")
      .description("queue a call; tok_ references in header values are resolved when it runs")
      .requiredOption("--url <url>", "the target URL")
      .option("--method <method>", "GET, POST, PUT, PATCH or DELETE", "POST")
      .option("--header <header>", '"Name: value" (repeatable); a value may be or contain tok_...', collect)
      .option("--body <body>", "the request body; - reads it from stdin")
      .option("--provider <provider>", "a provider template (fal, replicate)")
      .option("--timeout <seconds>", "per attempt", intOption)
      .option("--max-retries <n>", "0-10", intOption)
      .option("--delay <seconds>", "wait before the first attempt", intOption)
      .option("--idempotency-key <key>", "a repeat within 24 h returns the first task")
      .option("--wait", "wait for the final status and print the result")
      .option("--wait-timeout <seconds>", "give up waiting after this long", intOption, 120)
      .action(
        action(
          io,
          async (
            ctx,
            opts: {
              url: string;
              method: string;
              header?: string[];
              body?: string;
              provider?: string;
              timeout?: number;
              maxRetries?: number;
              delay?: number;
              idempotencyKey?: string;
              wait?: boolean;
              waitTimeout: number;
            },
          ) => {
            const client = ctx.keyClient("task create");
            const body = opts.body === "-" ? await ctx.input.stdinValue("the request body") : opts.body;
            const input = {
              targetUrl: opts.url,
              method: opts.method.toUpperCase(),
              headers: headers(opts.header),
              body,
              provider: opts.provider,
              timeout: opts.timeout,
              maxRetries: opts.maxRetries,
              delay: opts.delay,
            } as CreateTaskInput; // method and provider are checked by the server, which names the choices
            let created = await client.tasks.create(input, opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {});
            if (opts.wait) created = await waitFor(ctx, client, created.id, opts.waitTimeout);
            ctx.out.result({ task: created }, () => (opts.wait ? showTask(ctx, created) : ctx.out.line(`${created.id} ${created.status}`)));
          },
        ),
      ),
    'token-vault task create --url https://api.example.com/v1/run --header "Authorization: Bearer tok_01jrx7m2k..." --body \'{"prompt":"hi"}\' --wait',
  );

  example(
    task
      .command("get")
      .description("a task's status and result")
      .argument("<id>", "task_...")
      .option("--wait", "wait for the final status first")
      .option("--wait-timeout <seconds>", "give up waiting after this long", intOption, 120)
      .action(
        action(io, async (ctx, id: string, opts: { wait?: boolean; waitTimeout: number }) => {
          const client = ctx.keyClient("task get");
          const found = opts.wait ? await waitFor(ctx, client, id, opts.waitTimeout) : await client.tasks.get(id);
          ctx.out.result({ task: found }, () => showTask(ctx, found));
        }),
      ),
    "token-vault task get task_01... --wait",
  );

  example(
    task
      .command("list")
      .description("tasks, newest first")
      .option("--status <status>", "pending, delayed, running, completed, failed, timeout, cancelled...")
      .option("--provider <provider>")
      .option("--limit <n>", "at most this many (1-100)", intOption, 50)
      .action(
        action(io, async (ctx, opts: { status?: string; provider?: string; limit: number }) => {
          const page = await ctx.keyClient("task list").tasks.list({ status: opts.status, provider: opts.provider, limit: opts.limit } as TaskListQuery);
          ctx.out.result(page, () => ctx.out.table(page.tasks, columns));
        }),
      ),
    "token-vault task list --status failed",
  );

  example(
    task
      .command("cancel")
      .description("cancel a pending or delayed task")
      .argument("<id>", "task_...")
      .action(
        action(io, async (ctx, id: string) => {
          const cancelled = await ctx.keyClient("task cancel").tasks.cancel(id);
          ctx.out.result({ task: cancelled }, () => ctx.out.line(`${cancelled.id} ${cancelled.status}`));
        }),
      ),
    "token-vault task cancel task_01...",
  );
}
