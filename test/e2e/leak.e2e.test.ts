/**
 * A full session with a canary secret, then a search for it everywhere it must never be: every
 * response (status line aside: bodies and all headers), the server's log output, and every
 * file of the local state (the D1 SQLite files: the value is encrypted at rest).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CANARY } from "../helpers/constants";
import { echoForms, leaksIn } from "../helpers/encodings";
import { createTask, createTeam, namespace, ns, recorded, request, upstreamRecords, waitForRecords, waitForTask, type CreatedTeam, type RecordedRequest } from "./helpers";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** A state file's bytes; empty when it vanished after listing (SQLite's -shm/-wal files come and go). */
function readState(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return Buffer.alloc(0);
    throw error;
  }
}

/** Where `needle` occurs among the recorded responses, as "METHOD path (body|header name)". */
function responseHits(needle: string, from = 0): string[] {
  return recorded.slice(from).flatMap((r) => [
    ...(r.text.includes(needle) ? [`${r.method} ${r.path} body`] : []),
    ...r.headers.filter(([name, value]) => name.includes(needle) || value.includes(needle)).map(([name]) => `${r.method} ${r.path} header ${name}`),
  ]);
}

/** Both canaries stored in this file (the second one stays active and is echoed by a target). */
const CANARIES = [CANARY, `${CANARY}-2`];

/**
 * Every encoded form of a canary (test/helpers/encodings.ts) found in `text`, read as is and
 * with one level of JSON backslash escaping undone (results are stored and served as JSON).
 */
const encodedHits = (text: string) => CANARIES.flatMap((secret) => [...new Set([...leaksIn(text, secret), ...leaksIn(text.replace(/\\\\/g, "\\"), secret)])]);

/** Only the offending lines, so a failure does not print the whole log. */
const linesWith = (text: string, needle: string) => text.split("\n").filter((line) => line.includes(needle));

describe("the canary secret leaks nowhere", () => {
  let team: CreatedTeam;
  let afterTeamCreated = 0;
  let webhooks: RecordedRequest[] = [];
  let echoSpace = "";

  beforeAll(async () => {
    team = await createTeam("free");
    afterTeamCreated = recorded.length;

    // The happy path: create, list, get, revoke, audit.
    const created = await request("POST", "/v1/tokens", { key: team.key, body: { name: "canary", value: CANARY } });
    expect(created.status).toBe(201);
    const id = created.json.token.id as string;
    const kept = await request("POST", "/v1/tokens", { key: team.key, body: { name: "canary kept", value: `${CANARY}-2` } });
    expect(kept.status).toBe(201);
    expect((await request("GET", "/v1/tokens", { key: team.key })).status).toBe(200);
    expect((await request("GET", `/v1/tokens/${id}`, { key: team.key })).status).toBe(200);
    expect((await request("DELETE", `/v1/tokens/${id}`, { key: team.key })).status).toBe(200);
    const audit = await request("GET", "/v1/audit", { key: team.key });
    expect(audit.status).toBe(200);
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["team.created", "token.created", "token.revoked"]),
    );

    // Refused requests that carry the canary where it does not belong.
    const refused: [string, string, object][] = [
      ["POST", "/v1/tokens", { body: { name: 5, value: CANARY } }],
      ["POST", "/v1/tokens", { body: { name: "x", value: CANARY, extra: 1 } }],
      ["POST", "/v1/tokens", { body: { name: CANARY.repeat(5), value: "x" } }], // name too long
      ["POST", "/v1/tokens", { body: { value: CANARY } }],
      ["POST", "/v1/tokens", { body: `{"name": "x", "value": "${CANARY}"` }], // malformed JSON
      ["POST", "/v1/tokens", { body: `name=x&value=${CANARY}`, headers: { "content-type": "text/plain" } }],
      // Query strings, not paths: wrangler's own request log line prints the path.
      ["GET", `/v1/audit?targetId=${CANARY}&limit=${CANARY}`, {}],
      ["PATCH", `/v1/tokens/${id}`, { body: { value: CANARY } }],
      ["GET", "/v1/tokens", { key: undefined, headers: { "x-api-key": CANARY } }],
      ["GET", "/v1/tokens", { headers: { authorization: `Bearer ${CANARY}` } }],
      ["POST", "/admin/teams", { headers: { authorization: `Bearer ${CANARY}` }, body: { name: CANARY, plan: "free" } }],
    ];
    // A value no HTTP header can carry (issue 9, finding 1).
    refused.push(["POST", "/v1/tokens", { body: { name: "x", value: `${CANARY}-é` } }]);
    for (const [method, path, options] of refused) {
      const res = await request(method, path, { key: team.key, ...options });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }

    // Targets echoing the active canary in every encoding (issue 9, finding 2): a result, a
    // failure and a polled status, each with a completion webhook.
    echoSpace = namespace("leak");
    const headers = { Authorization: `Bearer ${kept.json.token.id}` };
    const onCompleteUrl = `${ns(echoSpace)}/webhook`;
    const bodies = [
      { targetUrl: `${ns(echoSpace)}/echo-encoded`, method: "GET", headers, onCompleteUrl },
      { targetUrl: `${ns(echoSpace)}/echo-encoded?status=500`, method: "GET", headers, maxRetries: 0, onCompleteUrl },
      {
        targetUrl: `${ns(echoSpace)}/echo-encoded`,
        headers,
        body: "{}",
        pollConfig: { urlTemplate: `${ns(echoSpace)}/echo-encoded`, statusPath: "state", doneValues: ["done"], interval: 1 },
        onCompleteUrl,
      },
    ];
    const statuses = [];
    for (const body of bodies) {
      const created = await createTask(team.key, body);
      const task = await waitForTask(team.key, created.id);
      statuses.push(task.status);
      expect(task.result?.headers?.["x-echo-0"]).toBe("[REDACTED]");
    }
    expect(statuses).toEqual(["completed", "failed", "completed"]);
    expect((await request("GET", "/v1/tasks", { key: team.key })).status).toBe(200);
    const records = await waitForRecords(echoSpace, (r) => r.filter((x) => x.path === "/webhook").length >= 3);
    webhooks = records.filter((r) => r.path === "/webhook");
    expect(webhooks).toHaveLength(3);
  }, 120_000);

  it("appears in no response body or header", () => {
    expect(recorded.length).toBeGreaterThan(15);
    expect(responseHits(CANARY)).toEqual([]);
  });

  it("appears nowhere in the server's log output", () => {
    const log = readFileSync(inject("logFile"), "utf8");
    // The log file really is the server's output (else this test would prove nothing).
    expect(log).toMatch(/Ready on/i);
    expect(log).toContain("/v1/tokens");
    expect(linesWith(log, CANARY)).toEqual([]);
  });

  it("is encrypted at rest: no file of the local state holds its bytes", () => {
    const files = filesUnder(inject("persistDir"));
    expect(files.some((f) => /\.sqlite$/.test(f))).toBe(true);
    const needle = Buffer.from(CANARY, "utf8");
    const hits = files.filter((f) => readState(f).includes(needle));
    expect(hits).toEqual([]);
    // The same search does find data that is stored in the clear, so it can fail.
    expect(files.some((f) => readState(f).includes(Buffer.from(team.team.id)))).toBe(true);
  });

  it("appears in none of its encodings in any response, stored result, webhook, log line or D1 file", async () => {
    // The target really echoed the canary in every form, and the search finds them.
    const echoed = (await upstreamRecords(echoSpace)).filter((r) => r.path.startsWith("/echo-encoded"));
    expect(echoed.length).toBeGreaterThanOrEqual(4);
    expect(echoed.every((r) => r.headers.authorization === `Bearer ${CANARY}-2`)).toBe(true);
    const direct = await fetch(`${ns(echoSpace)}/echo-encoded`, { headers: { authorization: `Bearer ${CANARY}-2` } });
    const directText = `${await direct.text()} ${[...direct.headers].flat().join(" ")}`;
    expect(encodedHits(directText).length).toBeGreaterThanOrEqual(Object.keys(echoForms(CANARY)).length / 2);

    const hits = [
      ...recorded.flatMap((r) => encodedHits(`${r.text} ${r.headers.flat().join(" ")}`).map((h) => `${r.method} ${r.path}: ${h}`)),
      ...webhooks.flatMap((w) => encodedHits(`${w.body} ${Object.entries(w.headers).flat().join(" ")}`).map((h) => `webhook: ${h}`)),
      ...encodedHits(readFileSync(inject("logFile"), "utf8")).map((h) => `log: ${h}`),
      ...filesUnder(inject("persistDir")).flatMap((f) => encodedHits(readState(f).toString("latin1")).map((h) => `${f}: ${h}`)),
    ];
    expect(hits).toEqual([]);
  });

  it("the full API key is never sent back after creation, nor logged", () => {
    expect(responseHits(team.key, afterTeamCreated)).toEqual([]);
    expect(linesWith(readFileSync(inject("logFile"), "utf8"), team.key)).toEqual([]);
  });
});
