/**
 * A full session with a canary secret, then a search for it everywhere it must never be: every
 * response (status line aside: bodies and all headers), the server's log output, and every
 * file of the local state (the D1 SQLite files: the value is encrypted at rest).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CANARY } from "../helpers/constants";
import { createTeam, recorded, request, type CreatedTeam } from "./helpers";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Where `needle` occurs among the recorded responses, as "METHOD path (body|header name)". */
function responseHits(needle: string, from = 0): string[] {
  return recorded.slice(from).flatMap((r) => [
    ...(r.text.includes(needle) ? [`${r.method} ${r.path} body`] : []),
    ...r.headers.filter(([name, value]) => name.includes(needle) || value.includes(needle)).map(([name]) => `${r.method} ${r.path} header ${name}`),
  ]);
}

/** Only the offending lines, so a failure does not print the whole log. */
const linesWith = (text: string, needle: string) => text.split("\n").filter((line) => line.includes(needle));

describe("the canary secret leaks nowhere", () => {
  let team: CreatedTeam;
  let afterTeamCreated = 0;

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
    for (const [method, path, options] of refused) {
      const res = await request(method, path, { key: team.key, ...options });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

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
    const hits = files.filter((f) => readFileSync(f).includes(needle));
    expect(hits).toEqual([]);
    // The same search does find data that is stored in the clear, so it can fail.
    expect(files.some((f) => readFileSync(f).includes(Buffer.from(team.team.id)))).toBe(true);
  });

  it("the full API key is never sent back after creation, nor logged", () => {
    expect(responseHits(team.key, afterTeamCreated)).toEqual([]);
    expect(linesWith(readFileSync(inject("logFile"), "utf8"), team.key)).toEqual([]);
  });
});
