/**
 * `npm run test:adversarial` (not part of `npm test`): the large adversarial corpus against the
 * real local server (started as the e2e suite starts it), over every operation of the served
 * OpenAPI document, with the cross-tenant and scope matrices and a canary search over every
 * response (all the encodings of test/helpers/encodings.ts) and the server log. Prints the
 * figures by category. Deterministic corpus (fixed seed); bounded in time.
 */
import { randomBytes } from "node:crypto";
import { Agent, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ALL_SCOPES } from "../../src/auth/scopes";
import { ERROR_CATALOG } from "../../src/errors";
import { casesFor, concretePath, errorContractProblem, operationsOf, pathIdPrefixes, type FuzzCase, type Operation } from "../adversarial/corpus";
import { leaksIn } from "../helpers/encodings";
import { baseUrl, logLinesWith } from "./helpers";

const SEED = 20260709;
const MIN_REQUESTS = 10_000;
const CONCURRENCY = 6;
const DEADLINE_MS = 8 * 60_000;
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

interface Answer {
  status: number;
  text: string;
  headers: string;
}

const stats = { requests: 0, byCategory: {} as Record<string, number>, statuses: {} as Record<string, number>, fiveXx: 0, contractProblems: 0, canaryHits: 0, responsesSearched: 0 };
const problems: string[] = [];
const canaries: string[] = [];
let address = 0;

/** Any method, any bytes, over plain HTTP/1.1 (fetch refuses TRACE and custom methods). */
function send(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array): Promise<Answer> {
  const { hostname, port } = new URL(baseUrl());
  const explicitLength = "content-length" in headers;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers: { "cf-connecting-ip": `198.18.${(address >> 8) & 255}.${address++ & 255}`, ...headers }, agent: explicitLength ? false : agent });
    req.setTimeout(60_000, () => req.destroy(new Error(`timeout ${method} ${path}`)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8"), headers: JSON.stringify(res.rawHeaders) }));
      res.on("error", reject);
    });
    req.on("error", (error) => (explicitLength ? resolve({ status: 0, text: "", headers: "" }) : reject(error)));
    if (body !== undefined && method !== "GET" && method !== "HEAD") req.end(body);
    else req.end();
  });
}

/** Head and part of a body, then the connection dropped: nothing comes back. */
async function abort(c: FuzzCase, headers: Record<string, string>): Promise<void> {
  const { hostname, port } = new URL(baseUrl());
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  const all = { host: `${hostname}:${port}`, ...headers, "content-length": "4096" };
  socket.write(`${c.method} ${c.path} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n${String(c.body ?? "")}`);
  await new Promise((r) => setTimeout(r, 150));
  socket.destroy();
}

/** Methods workerd itself answers 501 (plain text) before any Worker runs: counted, not the API's answer. */
const STANDARD_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const progressFrom = Date.now();

function record(category: string, where: string, answer: Answer) {
  stats.requests++;
  if (stats.requests % 1000 === 0) process.stderr.write(`[adversarial] ${stats.requests} requests, ${((Date.now() - progressFrom) / 1000).toFixed(0)} s\n`);
  // workerd's own plain-text 501, never the Worker's (its errors are JSON): for an unknown method,
  // or (rarely) for a standard one when the local proxy misreads a reused connection. Counted
  // and printed apart; the Worker's answers are what this run judges.
  if (answer.status === 501 && answer.text.startsWith("ERROR: Unrecognized request method")) {
    const label = STANDARD_METHODS.includes(where.split(" ")[0]!) ? "501 (runtime, reused connection)" : "501 (runtime, unknown method)";
    stats.byCategory[category] = (stats.byCategory[category] ?? 0) + 1;
    stats.statuses[label] = (stats.statuses[label] ?? 0) + 1;
    return;
  }
  stats.byCategory[category] = (stats.byCategory[category] ?? 0) + 1;
  stats.statuses[answer.status] = (stats.statuses[answer.status] ?? 0) + 1;
  if (answer.status >= 500 || answer.status === 0) {
    stats.fiveXx++;
    problems.push(`${answer.status}: ${where} ${answer.text.slice(0, 200)}`);
  }
  const contract = where.startsWith("HEAD ") ? undefined : errorContractProblem(answer.status, answer.text, ERROR_CATALOG);
  if (contract) {
    stats.contractProblems++;
    problems.push(`${contract}: ${where}`);
  }
  stats.responsesSearched++;
  for (const canary of canaries) {
    const found = [...leaksIn(answer.text, canary), ...leaksIn(answer.headers, canary)];
    if (found.length > 0) {
      stats.canaryHits++;
      problems.push(`canary (${found.join(", ")}) in ${where}`);
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fixtures read arbitrary JSON shapes
async function json(method: string, path: string, auth: Record<string, string>, body?: unknown): Promise<{ status: number; json: any }> {
  const answer = await send(method, path, { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) }, body === undefined ? undefined : JSON.stringify(body));
  record("setup", `${method} ${path}`, answer);
  return { status: answer.status, json: answer.text ? JSON.parse(answer.text) : undefined };
}

const admin = () => ({ authorization: `Bearer ${inject("adminToken")}` });

interface Fixture {
  auth: Record<string, string>;
  ids: Record<string, string>;
  marks: string[];
}

/** A Pro team and a key with every scope, owning a token, a delayed task, a named secret, a credential and a lease. */
async function apiKeyFixture(): Promise<Fixture> {
  const team = (await json("POST", "/admin/teams", admin(), { name: `adv ${randomBytes(4).toString("hex")}`, plan: "pro" })).json;
  const created = (await json("POST", `/admin/teams/${team.team.id}/apikeys`, admin(), { name: "adv all scopes", scopes: [...ALL_SCOPES] })).json;
  const auth = { authorization: `Bearer ${created.key}` };
  const canary = () => {
    const value = `sk-adv-canary-${randomBytes(12).toString("hex")}`;
    canaries.push(value);
    return value;
  };
  const name = `adv-token-${randomBytes(6).toString("hex")}`;
  const tok = (await json("POST", "/v1/tokens", auth, { name, value: canary() })).json.token.id;
  const task = (await json("POST", "/v1/tasks", auth, { targetUrl: "https://api.example.com/adv", headers: { Authorization: `Bearer ${tok}` }, delay: 3600 })).json.task.id;
  const secretName = `adv_secret_${randomBytes(6).toString("hex")}`;
  // Secret and credential values are revealed by design (GET /vault/secrets/:name, leases), so
  // they are not canaries; the token's value is never returned by any route.
  await json("POST", "/vault/secrets", auth, { name: secretName, value: `adv-secret-${randomBytes(12).toString("hex")}` });
  const credentialName = `adv-cred-${randomBytes(6).toString("hex")}`;
  await json("POST", "/v1/credentials", auth, { name: credentialName, type: "api-key", value: `adv-credential-${randomBytes(12).toString("hex")}`, policy: { maxLeases: 100 } });
  const lease = (await json("POST", "/v1/leases", auth, { credentialName, ttl: "1h", identity: { type: "agent", name: "adv" } })).json.lease.id;
  return {
    auth,
    ids: { tok, task, key: created.apiKey.id, lease, "secrets.name": secretName, "credentials.name": credentialName },
    marks: [name, team.team.id, secretName, credentialName],
  };
}

async function userFixture(): Promise<Fixture> {
  const email = `adv-${randomBytes(6).toString("hex")}@example.com`;
  const signed = (await json("POST", "/auth/signup", {}, { email, password: "adversarial-password-1", teamName: "adv team" })).json;
  const auth = { authorization: `Bearer ${signed.token}` };
  await json("PATCH", `/admin/teams/${signed.team.id}`, admin(), { plan: "pro" });
  const key = (await json("POST", `/teams/${signed.team.id}/apikeys`, auth, { name: "adv key" })).json.apiKey.id;
  const inv = (await json("POST", `/teams/${signed.team.id}/members`, auth, { email: `inv-${email}` })).json.invitation.id;
  return { auth, ids: { team: signed.team.id, usr: signed.user.id, inv, key }, marks: [signed.team.id, email] };
}

async function adminFixture(): Promise<Fixture> {
  const team = (await json("POST", "/admin/teams", admin(), { name: `adv admin ${randomBytes(4).toString("hex")}`, plan: "pro" })).json;
  return { auth: admin(), ids: { team: team.team.id, key: team.apiKey.id }, marks: [] };
}

const fixtureFor = (op: Operation): Promise<Fixture> =>
  op.auth === "apiKey" ? apiKeyFixture() : op.auth === "user" ? userFixture() : op.auth === "admin" ? adminFixture() : Promise.resolve({ auth: {}, ids: {}, marks: [] });

/** Runs `jobs` with at most CONCURRENCY in flight. */
async function pool<T>(jobs: (() => Promise<T>)[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
}

describe("adversarial run against the real local server", () => {
  let operations: Operation[] = [];
  const started = Date.now();

  afterAll(() => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      "",
      `=== adversarial run: seed ${SEED}, ${stats.requests} requests over ${operations.length} operations in ${seconds} s ===`,
      "requests by category:",
      ...Object.entries(stats.byCategory).sort().map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
      "status histogram:",
      ...Object.entries(stats.statuses).sort().map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
      `5xx (or no answer): ${stats.fiveXx}`,
      `error-contract problems: ${stats.contractProblems}`,
      `responses searched for ${canaries.length} canaries (every encoding): ${stats.responsesSearched}; hits: ${stats.canaryHits}`,
      `server log: unhandled_error lines ${logLinesWith("unhandled_error").length}; canary lines ${canaries.reduce((n, c) => n + logLinesWith(c).length, 0)}`,
      ...problems.slice(0, 20).map((p) => `  ! ${p}`),
      "",
    ];
    process.stdout.write(lines.join("\n"));
  });

  it("fuzzes every operation of the served document with >= 10,000 requests: no 5xx, catalogued errors, no canary", { timeout: DEADLINE_MS + 120_000 }, async () => {
    const doc = await (await fetch(`${baseUrl()}/openapi.json`)).json();
    operations = operationsOf(doc as Parameters<typeof operationsOf>[0]);
    expect(operations.length).toBeGreaterThan(30);
    for (let round = 0; stats.requests < MIN_REQUESTS && Date.now() - started < DEADLINE_MS; round++) {
      for (const op of operations) {
        // A fresh fixture per operation and round keeps each team well under its rate limit.
        const fixture = await fixtureFor(op);
        const cases = casesFor(op, fixture.ids, { seed: SEED + round, variants: 3, marker: `fuzz${round}` });
        await pool(
          cases.map((c) => async () => {
            const headers = { ...(c.authenticated ? fixture.auth : {}), ...c.headers };
            if (c.abort) {
              await abort(c, headers);
              stats.byCategory[c.category] = (stats.byCategory[c.category] ?? 0) + 1;
              stats.requests++;
              return;
            }
            record(c.category, `${c.method} ${c.path.slice(0, 100)}`, await send(c.method, c.path, headers, c.body));
          }),
        );
      }
    }
    expect(stats.requests).toBeGreaterThanOrEqual(MIN_REQUESTS);
    expect(problems).toEqual([]);
  });

  it("cross-tenant matrix: team B's key on team A's ids, every API-key operation", async () => {
    const [a, b] = await Promise.all([apiKeyFixture(), apiKeyFixture()]);
    for (const op of operations.filter((o) => o.auth === "apiKey")) {
      const path = concretePath(op, a.ids) + (op.params.some((p) => p.name === "wait") ? "?wait=0" : "");
      // A valid body where one is needed to reach the resource (validation answers before it).
      const valid = op.path === "/v1/tasks" ? { targetUrl: "https://api.example.com/x", headers: { Authorization: `Bearer ${a.ids.tok}` } } : op.path.endsWith("/assignments") ? { apiKeyId: a.ids.key } : {};
      const body = op.body ? JSON.stringify(valid) : undefined;
      const answer = await send(op.method, path, { ...b.auth, ...(body ? { "content-type": "application/json" } : {}) }, body);
      record("cross_tenant", `${op.key} as B`, answer);
      if (pathIdPrefixes(op).length > 0) expect([403, 404], `${op.key} -> ${answer.status}`).toContain(answer.status);
      for (const mark of a.marks) expect(answer.text, op.key).not.toContain(mark);
    }
  });

  it("scope matrix: a key lacking the operation's scope gets 403 insufficient_scope", async () => {
    const owner = await userFixture();
    const target = await apiKeyFixture();
    const scopes = [...new Set(operations.map((o) => o.scope).filter((s): s is string => Boolean(s)))];
    for (const scope of scopes) {
      const created = await json("POST", `/teams/${owner.ids.team}/apikeys`, owner.auth, { name: `without ${scope}`, scopes: scopes.filter((s) => s !== scope) });
      const auth = { authorization: `Bearer ${created.json.key}` };
      for (const op of operations.filter((o) => o.scope === scope)) {
        const answer = await send(op.method, concretePath(op, target.ids), { ...auth, ...(op.body ? { "content-type": "application/json" } : {}) }, op.body ? "{}" : undefined);
        record("scope", `${op.key} without ${scope}`, answer);
        expect([answer.status, JSON.parse(answer.text).code], op.key).toEqual([403, "insufficient_scope"]);
      }
    }
  });

  it("leaves no unhandled_error and no canary in the server log", async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    expect(logLinesWith("unhandled_error")).toEqual([]);
    for (const canary of canaries) expect(logLinesWith(canary)).toEqual([]);
  });
});
