/**
 * Issue 16 end to end: a failing task shows why in its attempt history, is re-run with
 * POST /v1/tasks/:id/retry (a new run of the same task), and the list filters find it.
 */
import { describe, expect, it } from "vitest";
import { createTask, createTeam, namespace, ns, request, upstreamRecords, waitForTask } from "./helpers";

describe("retrying a failed task", () => {
  it("shows each attempt, re-runs the task as a new run, and lists it by status and time", async () => {
    const { key } = await createTeam("pro");
    const space = namespace("retry");
    const since = new Date(Date.now() - 1000).toISOString();
    const created = await createTask(key, { targetUrl: `${ns(space)}/status/500`, maxRetries: 1, retryBackoff: "linear" });
    const failed = await waitForTask(key, created.id);
    expect(failed).toMatchObject({ status: "failed", attempts: 2, runs: 1, error: "Target answered 500" });
    expect(failed.attemptHistory.map((a: { attempt: number; statusCode: number; error: string }) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, "Target answered 500"],
      [2, 500, "Target answered 500"],
    ]);

    const listed = await request("GET", `/v1/tasks?status=failed&createdAfter=${encodeURIComponent(since)}`, { key });
    expect(listed.json.tasks.map((t: { id: string }) => t.id)).toEqual([created.id]);
    expect((await request("GET", `/v1/tasks?status=completed&createdAfter=${encodeURIComponent(since)}`, { key })).json.tasks).toEqual([]);

    const retried = await request("POST", `/v1/tasks/${created.id}/retry`, { key });
    expect(retried.status).toBe(200);
    expect(retried.json.task).toMatchObject({ id: created.id, status: "pending", runs: 2, attempts: 0 });
    const again = await waitForTask(key, created.id);
    expect(again).toMatchObject({ status: "failed", runs: 2, attempts: 2 });
    expect(again.attemptHistory).toHaveLength(4);
    expect(again.attemptHistory[2]).toMatchObject({ run: 2, attempt: 1, statusCode: 500 });
    expect((await upstreamRecords(space)).filter((r) => r.path === "/status/500")).toHaveLength(4);

    const completed = await createTask(key, { targetUrl: `${ns(space)}/ok` });
    expect((await waitForTask(key, completed.id)).status).toBe("completed");
    const refused = await request("POST", `/v1/tasks/${completed.id}/retry`, { key });
    expect(refused.status).toBe(409);
    expect(refused.json).toMatchObject({ code: "task_not_retryable", status: "completed" });
  });
});
