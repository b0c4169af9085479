/**
 * Completion webhooks end to end (issue 3): the real local server POSTs the final task to
 * onCompleteUrl on the fake server, signed `X-Signature: t=<unix>,v1=<hex>` with the team's
 * secret; the receiver verifies it here exactly as the README tells users to (node:crypto).
 * Issue 16: the same deliveries carry Standard Webhooks headers, verified here with the
 * off-the-shelf `standardwebhooks` package, also across a rotation.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { canary, createTask, createTeam, createToken, logLinesWith, namespace, ns, request, upstreamRecords, waitForRecords, waitForTask, type RecordedRequest } from "./helpers";

/** A receiver's check: HMAC-SHA256 over `${t}.${rawBody}` keyed with the secret's UTF-8 bytes. */
function verifies(secret: string, rawBody: string, header: string | undefined): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const [, t, v1] = match as unknown as [string, string, string];
  const expected = createHmac("sha256", Buffer.from(secret, "utf8")).update(`${t}.${rawBody}`).digest();
  return timingSafeEqual(expected, Buffer.from(v1, "hex"));
}

const deliveries = (records: RecordedRequest[]) => records.filter((r) => r.method === "POST" && r.path === "/webhook");

/** Waits for the first delivery to the namespace's /webhook. */
async function firstDelivery(space: string, key: string, taskId: string): Promise<RecordedRequest> {
  const records = await waitForRecords(space, (r) => deliveries(r).length > 0);
  const delivery = deliveries(records)[0];
  if (!delivery) {
    const task = (await request("GET", `/v1/tasks/${taskId}`, { key })).json?.task;
    throw new Error(`no webhook delivery in namespace ${space}; task status ${task?.status}, webhook ${JSON.stringify(task?.webhook)}`);
  }
  return delivery;
}

async function currentSecret(key: string): Promise<string> {
  const res = await request("GET", "/v1/webhooks/secret", { key });
  expect(res.status).toBe(200);
  expect(res.json.secret).toEqual(expect.any(String));
  return res.json.secret as string;
}

describe("completion webhooks", () => {
  it("delivers task.completed, signed with the team's secret, without the resolved secret", async () => {
    const team = await createTeam("pro");
    const secret = canary();
    const tokenId = await createToken(team.key, secret);
    const signingSecret = await currentSecret(team.key);
    const space = namespace("hook");
    // /echo puts the resolved Authorization in the response the task stores (redacted).
    const created = await createTask(team.key, {
      targetUrl: `${ns(space)}/echo`,
      headers: { Authorization: `Bearer ${tokenId}` },
      body: "{}",
      onCompleteUrl: `${ns(space)}/webhook`,
    });
    const task = await waitForTask(team.key, created.id);
    expect(task.status).toBe("completed");

    const delivery = await firstDelivery(space, team.key, task.id);
    expect(delivery.headers["content-type"]).toMatch(/^application\/json/);
    const signature = delivery.headers["x-signature"];
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/^t=(\d+)/.exec(signature!)![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(300);
    expect(verifies(signingSecret, delivery.body, signature)).toBe(true);
    // The check can fail: a changed body or another key does not verify.
    expect(verifies(signingSecret, `${delivery.body} `, signature)).toBe(false);
    expect(verifies(`${signingSecret}x`, delivery.body, signature)).toBe(false);

    const payload = JSON.parse(delivery.body);
    expect(payload.event).toBe("task.completed");
    expect(payload.task).toMatchObject({ id: task.id, status: "completed", headers: { Authorization: `Bearer ${tokenId}` } });
    expect(payload.task.result.statusCode).toBe(200);
    // The target did get the secret (it echoed it), but the webhook never carries it.
    const call = (await upstreamRecords(space)).find((r) => r.path === "/echo");
    expect(call?.headers.authorization).toBe(`Bearer ${secret}`);
    expect(delivery.body).not.toContain(secret);
    expect(JSON.stringify(delivery.headers)).not.toContain(secret);
    expect(logLinesWith(secret)).toEqual([]);
    expect(deliveries(await upstreamRecords(space))).toHaveLength(1);
  });

  it("signs later deliveries with the rotated secret, not the old one", async () => {
    const { key } = await createTeam("pro");
    const oldSecret = await currentSecret(key);
    const rotated = await request("POST", "/v1/webhooks/secret/rotate", { key });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.json.secret as string;
    expect(newSecret).not.toBe(oldSecret);
    expect(await currentSecret(key)).toBe(newSecret);

    const space = namespace("rotate");
    const created = await createTask(key, { targetUrl: `${ns(space)}/ok`, onCompleteUrl: `${ns(space)}/webhook` });
    expect((await waitForTask(key, created.id)).status).toBe("completed");
    const delivery = await firstDelivery(space, key, created.id);
    expect(JSON.parse(delivery.body).task.id).toBe(created.id);
    expect(verifies(newSecret, delivery.body, delivery.headers["x-signature"])).toBe(true);
    expect(verifies(oldSecret, delivery.body, delivery.headers["x-signature"])).toBe(false);
  });

  it("sends task.timeout for a task that timed out", async () => {
    const { key } = await createTeam("pro");
    const signingSecret = await currentSecret(key);
    const space = namespace("hooktimeout");
    const created = await createTask(key, { targetUrl: `${ns(space)}/slow/3000`, timeout: 1, maxRetries: 0, onCompleteUrl: `${ns(space)}/webhook` });
    expect((await waitForTask(key, created.id)).status).toBe("timeout");
    const delivery = await firstDelivery(space, key, created.id);
    expect(verifies(signingSecret, delivery.body, delivery.headers["x-signature"])).toBe(true);
    const payload = JSON.parse(delivery.body);
    expect(payload.event).toBe("task.timeout");
    expect(payload.task).toMatchObject({ id: created.id, status: "timeout" });
  });

  it("sends task.failed for a task whose token was revoked before execution", async () => {
    const { key } = await createTeam("pro");
    const signingSecret = await currentSecret(key);
    const tokenId = await createToken(key, canary());
    const space = namespace("hookfailed");
    const created = await createTask(key, {
      targetUrl: `${ns(space)}/ok`,
      headers: { Authorization: tokenId },
      delay: 2,
      onCompleteUrl: `${ns(space)}/webhook`,
    });
    expect((await request("DELETE", `/v1/tokens/${tokenId}`, { key })).status).toBe(200);
    expect((await waitForTask(key, created.id)).status).toBe("failed");
    const delivery = await firstDelivery(space, key, created.id);
    expect(verifies(signingSecret, delivery.body, delivery.headers["x-signature"])).toBe(true);
    const payload = JSON.parse(delivery.body);
    expect(payload.event).toBe("task.failed");
    expect(payload.task).toMatchObject({ id: created.id, status: "failed" });
    expect(payload.task.error).toContain(tokenId);
    // The target itself was never called: the only request in the namespace is the webhook.
    expect((await upstreamRecords(space)).map((r) => r.path)).toEqual(["/webhook"]);
  });
});

/** The receiver a user would write: the standardwebhooks package's Webhook.verify. */
function libraryVerifies(secret: string, delivery: RecordedRequest): boolean {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

async function deliveredTask(key: string, label: string) {
  const space = namespace(label);
  const created = await createTask(key, { targetUrl: `${ns(space)}/ok`, onCompleteUrl: `${ns(space)}/webhook` });
  expect((await waitForTask(key, created.id)).status).toBe("completed");
  return { id: created.id as string, delivery: await firstDelivery(space, key, created.id) };
}

describe("Standard Webhooks (verified with the standardwebhooks package)", () => {
  it("verifies a delivery with the team's secret, and nothing else", async () => {
    const { key } = await createTeam("pro");
    const secret = await currentSecret(key);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const { id, delivery } = await deliveredTask(key, "std");
    expect(delivery.headers["webhook-id"]).toEqual(expect.any(String));
    expect(delivery.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(delivery.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as { event: string; task: { id: string } };
    expect(payload.event).toBe("task.completed");
    expect(payload.task.id).toBe(id);
    expect(libraryVerifies(secret, { ...delivery, body: `${delivery.body} ` })).toBe(false);
    expect(libraryVerifies((await request("POST", "/v1/webhooks/secret/rotate?gracePeriod=0", { key })).json.secret, delivery)).toBe(false);
    // The deprecated header is still sent by default (LEGACY_WEBHOOK_SIGNATURE unset).
    expect(verifies(secret, delivery.body, delivery.headers["x-signature"])).toBe(true);
  });

  it("during a rotation's grace period both the old and the new secret verify; after gracePeriod=0 only the new one", async () => {
    const { key } = await createTeam("pro");
    const oldSecret = await currentSecret(key);
    const rotated = await request("POST", "/v1/webhooks/secret/rotate", { key });
    expect(rotated.status).toBe(200);
    expect(Date.parse(rotated.json.previousSecretExpiresAt) - Date.parse(rotated.json.createdAt)).toBe(86_400_000);
    const newSecret = rotated.json.secret as string;
    const during = (await deliveredTask(key, "grace")).delivery;
    expect(during.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(libraryVerifies(oldSecret, during)).toBe(true);
    expect(libraryVerifies(newSecret, during)).toBe(true);

    const last = (await request("POST", "/v1/webhooks/secret/rotate?gracePeriod=0", { key })).json.secret as string;
    const after = (await deliveredTask(key, "nograce")).delivery;
    expect(after.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(libraryVerifies(last, after)).toBe(true);
    expect(libraryVerifies(newSecret, after)).toBe(false);
    expect(libraryVerifies(oldSecret, after)).toBe(false);
  });
});
