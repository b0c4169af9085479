/**
 * Provider templates and AI polling mode end to end (issue 3): fal's queue API and Replicate's
 * predictions API, faked by test/fakes/upstream.ts on loopback, driven by the real local
 * server. Credentials follow poll requests only to the submit URL's origin: the same fake
 * server reached as `localhost` instead of `127.0.0.1` is a foreign origin and gets none.
 */
import { describe, it } from "vitest";
import { FINAL_STATUSES, canary, createTask, createTeam, createToken, logLinesWith, namespace, ns, recorded, request, responseHits, sleep, upstreamRecords, waitForTask, type RecordedRequest } from "./helpers";

/** Reads the task (no wait) until it leaves pending/processing; returns every status seen. */
async function statusesUntilFinal(key: string, id: string, timeoutMs = 30_000): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await request("GET", `/v1/tasks/${id}`, { key });
    if (res.status !== 200) throw new Error(`GET /v1/tasks/${id} answered ${res.status} ${res.text} (statuses so far: ${seen.join(", ")})`);
    const status = res.json.task.status as string;
    if (seen.at(-1) !== status) seen.push(status);
    if (FINAL_STATUSES.includes(status)) break;
    await sleep(250);
  }
  return seen;
}

const gets = (records: RecordedRequest[]) => records.filter((r) => r.method === "GET");

/** A Pro team with a stored provider key. */
async function setup() {
  const team = await createTeam("pro");
  const secret = canary();
  const tokenId = await createToken(team.key, secret, "provider key");
  return { key: team.key, secret, tokenId };
}

describe("GET /v1/providers", () => {
  it("lists the fal and replicate templates without authentication", async ({ expect }) => {
    const res = await request("GET", "/v1/providers");
    expect(res.status).toBe(200);
    const byName = Object.fromEntries((res.json.providers as { name: string; pollConfig: Record<string, unknown> }[]).map((p) => [p.name, p]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(["fal", "replicate"]));
    expect(byName.fal!.pollConfig).toMatchObject({ urlTemplate: "{startResult.body.status_url}", doneValues: ["COMPLETED"], forwardAuth: true });
    expect(byName.replicate!.pollConfig).toMatchObject({
      urlTemplate: "{startResult.body.urls.get}",
      doneValues: ["succeeded"],
      failValues: expect.arrayContaining(["failed", "canceled", "aborted"]),
    });
  });
});

// Every flow has its own team and namespace: they run side by side.
describe.concurrent("AI polling mode", () => {
  describe("fal", () => {
    it("submits, polls with the credential on the same origin, and stores the result", async ({ expect }) => {
      const { key, secret, tokenId } = await setup();
      const space = namespace("fal");
      const from = recorded.length;
      const body = '{"prompt":"a beautiful sunset over mountains"}';
      const created = await createTask(key, {
        targetUrl: `${ns(space)}/fal/fal-ai/flux/dev`,
        provider: "fal",
        headers: { Authorization: `Key ${tokenId}`, "Content-Type": "application/json" },
        body,
        pollConfig: { interval: 1 },
      });
      expect(created.pollConfig).toMatchObject({ interval: 1, statusPath: "status", doneValues: ["COMPLETED"] });

      const seen = await statusesUntilFinal(key, created.id);
      expect(seen).toContain("polling");
      expect(seen.at(-1)).toBe("completed");
      const task = await waitForTask(key, created.id);
      expect(task.status).toBe("completed");
      expect(task.error).toBeNull();
      expect(task.result.statusCode).toBe(200);
      expect(JSON.parse(task.result.body as string)).toEqual({
        images: [{ url: "https://fal.media/files/result.png", width: 1024, height: 768 }],
        seed: 42,
      });

      const records = await upstreamRecords(space);
      expect(records[0]).toMatchObject({ method: "POST", path: "/fal/fal-ai/flux/dev", body });
      expect(records[0]!.headers.authorization).toBe(`Key ${secret}`);
      const statusPolls = gets(records).filter((r) => r.path.endsWith("/status"));
      const resultFetches = gets(records).filter((r) => /^\/fal\/requests\/[^/]+$/.test(r.path));
      expect(statusPolls).toHaveLength(3); // IN_QUEUE, IN_PROGRESS, COMPLETED
      expect(resultFetches).toHaveLength(1);
      for (const r of [...statusPolls, ...resultFetches]) expect(r.headers.authorization).toBe(`Key ${secret}`);
      expect(responseHits(secret, from)).toEqual([]);
    expect(logLinesWith(secret)).toEqual([]);
    });

    it("fails with the provider's detail when the result fetch answers 422", async ({ expect }) => {
      const { key, tokenId } = await setup();
      const space = namespace("falfail");
      const created = await createTask(key, {
        targetUrl: `${ns(space)}/fal/fal-ai/fail-model`,
        provider: "fal",
        headers: { Authorization: `Key ${tokenId}` },
        body: '{"prompt":"x"}',
        pollConfig: { interval: 1 },
      });
      const task = await waitForTask(key, created.id);
      expect(task.status).toBe("failed");
      expect(task.error).toContain("422");
      expect(task.error).toContain("Prompt was flagged by the safety checker");
      expect(gets(await upstreamRecords(space)).some((r) => /^\/fal\/requests\/[^/]+-fail$/.test(r.path))).toBe(true);
    });

    it("sends no credential to a status URL on a foreign origin", async ({ expect }) => {
      const { key, secret, tokenId } = await setup();
      const space = namespace("falforeign");
      const created = await createTask(key, {
        targetUrl: `${ns(space)}/fal/fal-ai/flux/dev?foreign=1`,
        provider: "fal",
        headers: { Authorization: `Key ${tokenId}` },
        body: '{"prompt":"x"}',
        pollConfig: { interval: 1 },
      });
      const task = await waitForTask(key, created.id);
      expect(task.status).toBe("completed");
      expect(JSON.parse(task.result.body as string).images).toHaveLength(1);

      const records = await upstreamRecords(space);
      expect(records[0]!.method).toBe("POST");
      expect(records[0]!.headers.authorization).toBe(`Key ${secret}`);
      expect(records[0]!.headers.host).toMatch(/^127\.0\.0\.1:/);
      const polls = gets(records);
      expect(polls.length).toBe(4); // three status requests and the result fetch
      for (const poll of polls) {
        expect(poll.headers.host).toMatch(/^localhost:/);
        expect(poll.headers.authorization).toBeUndefined();
        expect(JSON.stringify(poll.headers)).not.toContain(secret);
      }
    });
  });

  describe("replicate", () => {
    it("submits, polls urls.get with the Bearer credential, and stores the output", async ({ expect }) => {
      const { key, secret, tokenId } = await setup();
      const space = namespace("rep");
      const from = recorded.length;
      const body = '{"version":"v","input":{"prompt":"hi"}}';
      const created = await createTask(key, {
        targetUrl: `${ns(space)}/replicate/v1/predictions`,
        provider: "replicate",
        headers: { Authorization: `Bearer ${tokenId}`, "Content-Type": "application/json" },
        body,
        pollConfig: { interval: 1 },
      });
      const seen = await statusesUntilFinal(key, created.id);
      expect(seen).toContain("polling");
      const task = await waitForTask(key, created.id);
      expect(task.status).toBe("completed");
      expect(task.result.output).toEqual(["https://replicate.delivery/out-0.png"]);

      const records = await upstreamRecords(space);
      expect(records[0]).toMatchObject({ method: "POST", path: "/replicate/v1/predictions", body });
      expect(records[0]!.headers.authorization).toBe(`Bearer ${secret}`);
      const polls = gets(records);
      expect(polls).toHaveLength(3); // starting, processing, succeeded
      for (const poll of polls) {
        expect(poll.path).toMatch(/^\/replicate\/v1\/predictions\/p[a-z0-9]+$/);
        expect(poll.headers.authorization).toBe(`Bearer ${secret}`);
      }
      expect(responseHits(secret, from)).toEqual([]);
    expect(logLinesWith(secret)).toEqual([]);
    });

    it("fails with the prediction's error", async ({ expect }) => {
      const { key, tokenId } = await setup();
      const space = namespace("repfail");
      const created = await createTask(key, {
        targetUrl: `${ns(space)}/replicate/v1/predictions`,
        provider: "replicate",
        headers: { Authorization: `Bearer ${tokenId}` },
        body: '{"version":"v","input":{"prompt":"hi","fail":true}}',
        pollConfig: { interval: 1 },
      });
      const task = await waitForTask(key, created.id);
      expect(task.status).toBe("failed");
      expect(task.error).toContain("CUDA out of memory");
      expect(gets(await upstreamRecords(space))).toHaveLength(3);
    });
  });
});
