/**
 * The bounded adversarial suite (issue 9, "Keep the attacks"), generated from the route table
 * through its OpenAPI document, so a new route is covered without being listed here:
 *  - a fuzz corpus per operation (test/adversarial/corpus.ts): no 5xx, every error with a
 *    catalogued code documented for the route, and a refused request changes no row;
 *  - the cross-tenant matrix (another team's key on every API-key route), the scope matrix
 *    (a key lacking the route's scope) and the non-member matrix (every session route).
 * The large corpus runs against the real local server with `npm run test:adversarial`.
 */
import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ALL_SCOPES } from "../src/auth/scopes";
import { ERROR_CATALOG } from "../src/errors";
import { createApp } from "../src/http/app";
import { buildOpenApi } from "../src/openapi";
import { routes } from "../src/routes";
import { casesFor, concretePath, errorContractProblem, operationsOf, pathIdPrefixes, type FuzzCase, type Operation } from "./adversarial/corpus";
import { signupUser } from "./helpers/accounts";
import { ID_PROVIDERS, apiKeyFixture, fixtureFor, rowCounts, userFixture, type Fixture } from "./helpers/adversarial-fixtures";
import { call } from "./helpers/api";
import { documentedCodes } from "./helpers/error-contract";

// This file sends ~1,600 requests: SELF.fetch's cost grows with each call made in a file
// (test/helpers/direct-self.ts says why), so SELF here calls the same Worker's fetch handler in this isolate.
vi.mock("cloudflare:test", async (importOriginal) => (await import("./helpers/direct-self")).withDirectSelf(await importOriginal()));

const operations = operationsOf(buildOpenApi(routes) as Parameters<typeof operationsOf>[0]);
const SEED = 20260709;

/** A body whose stream fails after a few bytes, as a dropped connection does. */
function brokenBody(prefix: string): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("Network connection lost."));
      sent = true;
      controller.enqueue(new TextEncoder().encode(prefix));
    },
  });
}

const app = createApp(routes);

/** Sends one case through the Worker (an aborted body through the app with a failing stream). */
async function send(c: FuzzCase, fixture: Fixture): Promise<{ status: number; text: string }> {
  const headers = { ...(c.authenticated ? fixture.auth : {}), ...c.headers };
  const url = `https://vault.test${c.path}`;
  if (c.abort) {
    const exec = createExecutionContext();
    const res = await app(new Request(url, { method: c.method, headers, body: brokenBody(String(c.body)) }), env, exec);
    await waitOnExecutionContext(exec);
    return { status: res.status, text: await res.text() };
  }
  const res = await SELF.fetch(url, { method: c.method, headers, body: c.method === "GET" || c.method === "HEAD" ? undefined : c.body });
  return { status: res.status, text: await res.text() };
}

/**
 * What the Workers runtime's own fetch cannot send (it throws before the Worker sees it): other
 * methods than the standard ones. The large run sends them over raw HTTP (workerd answers them
 * 501 before any Worker runs).
 */
const sendable = (c: FuzzCase) => ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].includes(c.method);

describe("the route table is fully covered", () => {
  it("has one OpenAPI operation per route", () => {
    expect(operations.map((o) => o.key).sort()).toEqual(routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`).sort());
  });

  it("has a fixture id provider for every path parameter of every operation", () => {
    const missing = operations.flatMap((op) => pathIdPrefixes(op).filter((prefix) => !ID_PROVIDERS[op.auth].includes(prefix)).map((prefix) => `${op.key} needs a ${op.auth} provider for ${prefix}`));
    expect(missing).toEqual([]);
    expect(() => concretePath(operations.find((o) => o.params.some((p) => p.in === "path"))!, {})).toThrow(/no fixture id provider/);
  });
});

describe("fuzz corpus over every operation (bounded)", () => {
  it.each(operations.map((op) => [op.key, op] as const))("%s: no 5xx, catalogued and documented errors, no half-written change", async (_key, op: Operation) => {
    // Each operation gets its own fixture: POST /auth/logout ends its session, revokes spend keys.
    const fixture = await fixtureFor(op.auth);
    // One case per category keeps CI within budget as the route table grows (146 operations);
    // the large run (npm run test:adversarial) sends the whole corpus.
    const cases = casesFor(op, fixture.ids, { seed: SEED, variants: 0, maxPerCategory: 1, sendable });
    expect(cases.length).toBeGreaterThan(op.body ? 8 : 2);
    const problems: string[] = [];
    const byCategory: Record<string, number> = {};
    // One count per request: a refused request is compared with the counts after the last accepted one.
    let baseline = await rowCounts(fixture.teams);
    for (const c of cases) {
      byCategory[c.category] = (byCategory[c.category] ?? 0) + 1;
      const res = await send(c, fixture);
      const where = `${c.category} ${c.method} ${c.path.slice(0, 120)} -> ${res.status} ${res.text.slice(0, 160)}`;
      if (res.status >= 500) problems.push(`5xx: ${where}`);
      const contract = c.method === "HEAD" ? undefined : errorContractProblem(res.status, res.text, ERROR_CATALOG);
      if (contract) problems.push(`${contract}: ${where}`);
      if (res.status >= 400 && !contract && c.method !== "HEAD") {
        const code = JSON.parse(res.text).code;
        if (!documentedCodes(c.method, c.path).includes(code)) problems.push(`undocumented ${code}: ${where}`);
      }
      const after = await rowCounts(fixture.teams);
      if (res.status >= 400 && JSON.stringify(after) !== JSON.stringify(baseline)) problems.push(`refused but changed rows ${JSON.stringify(baseline)} -> ${JSON.stringify(after)}: ${where}`);
      baseline = after;
    }
    expect(problems).toEqual([]);
    // Unicode and NUL cases go into string fields: a body without one (a PATCH of an object, a renew) has none.
    const hasStringField = Object.values((op.body?.properties ?? {}) as Record<string, { type?: unknown }>).some((p) => p.type === "string");
    const expected = ["malformed_json", "wrong_type", "proto_keys", "content_type", "oversized_body", "aborted_body", "odd_method", ...(hasStringField ? ["unicode", "nul"] : [])];
    if (op.body) expect(Object.keys(byCategory)).toEqual(expect.arrayContaining(expected));
  });
});

describe("cross-tenant matrix: team B's key on team A's resources, every API-key route", () => {
  // B's requests are all refused or about B, so A and B are shared by the matrix.
  let a: Fixture;
  let b: Fixture;
  beforeAll(async () => {
    [a, b] = await Promise.all([apiKeyFixture(), apiKeyFixture()]);
  });
  it.each(operations.filter((op) => op.auth === "apiKey").map((op) => [op.key, op] as const))("%s", async (_key, op: Operation) => {
    const hasIds = pathIdPrefixes(op).length > 0;
    const path = concretePath(op, a.ids) + (op.params.some((p) => p.name === "wait") ? "?wait=0" : "");
    // With a body: A's references wherever a string goes (a tok_ in task headers must not resolve).
    const body = op.body ? JSON.stringify({ ...(exampleWithRefs(op, a.ids) as object) }) : undefined;
    const res = await call(op.method, path, { headers: b.auth, body });
    if (hasIds) expect([403, 404], `${op.key} -> ${res.status} ${res.text}`).toContain(res.status);
    for (const mark of a.marks) expect(res.text, `${op.key} answered A's ${mark}`).not.toContain(mark);
    expect(res.text).not.toContain(`secret-`);
  });
});

/** A plausible body for the operation with the other team's ids in every string. */
function exampleWithRefs(op: Operation, ids: Record<string, string>): unknown {
  const props = (op.body?.properties ?? {}) as Record<string, { type?: string }>;
  const ref = ids.tok ?? Object.values(ids)[0]!;
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(props)) {
    if (name === "targetUrl" || name === "onCompleteUrl") out[name] = "https://api.example.com/x";
    else if (name === "apiKeyId" && ids.key) out[name] = ids.key;
    else if (schema.type === "string") out[name] = name === "value" ? ref : `Bearer ${ref}`;
    else if (schema.type === "object" && name === "headers") out[name] = { Authorization: `Bearer ${ref}` };
  }
  return out;
}

describe("scope matrix: a key lacking the route's scope, every scoped route", () => {
  it("answers 403 insufficient_scope naming the scope, and passes the scope check with it", async () => {
    const owner = await userFixture();
    const teamId = owner.ids.team!;
    const keys: Record<string, string> = {};
    for (const scope of ALL_SCOPES) {
      const created = await call("POST", `/teams/${teamId}/apikeys`, { headers: owner.auth, body: { name: `without ${scope}`, scopes: ALL_SCOPES.filter((s) => s !== scope) } });
      expect(created.status).toBe(201);
      keys[scope] = created.json.key;
    }
    const only: Record<string, string> = {};
    for (const scope of ALL_SCOPES) {
      const created = await call("POST", `/teams/${teamId}/apikeys`, { headers: owner.auth, body: { name: `only ${scope}`, scopes: [scope] } });
      only[scope] = created.json.key;
    }
    const fixture = await apiKeyFixture();
    const scoped = operations.filter((op) => op.scope);
    expect(scoped.length).toBe(operations.filter((op) => op.auth === "apiKey").length);
    for (const op of scoped) {
      const path = concretePath(op, fixture.ids);
      const body = op.body ? "{}" : undefined;
      const lacking = await call(op.method, path, { key: keys[op.scope!], body });
      expect([lacking.status, lacking.json], op.key).toEqual([403, { error: `This API key lacks the scope ${op.scope}`, code: "insufficient_scope", requiredScope: op.scope }]);
      const holding = await call(op.method, path + (op.params.some((p) => p.name === "wait") ? "?wait=0" : ""), { key: only[op.scope!], body });
      expect(holding.json?.code, op.key).not.toBe("insufficient_scope");
    }
  }, 180_000);
});

describe("non-member matrix: another user on every session route", () => {
  let owner: Fixture;
  let stranger: Awaited<ReturnType<typeof signupUser>>;
  beforeAll(async () => {
    [owner, stranger] = await Promise.all([userFixture(), signupUser("stranger")]);
  });
  // Logout ends the stranger's own sessions only: it runs last, as the stranger's last request.
  it.each(operations.filter((op) => op.auth === "user").sort((x, y) => Number(x.key === "POST /auth/logout") - Number(y.key === "POST /auth/logout")).map((op) => [op.key, op] as const))("%s", async (_key, op: Operation) => {
    const path = concretePath(op, owner.ids);
    const body = op.body ? JSON.stringify(exampleWithIds(op, owner)) : undefined;
    const res = await call(op.method, path, { headers: { authorization: `Bearer ${stranger.token}` }, body });
    if (pathIdPrefixes(op).length > 0) expect([403, 404], `${op.key} -> ${res.status} ${res.text}`).toContain(res.status);
    for (const mark of owner.marks) expect(res.text, `${op.key} answered the owner's ${mark}`).not.toContain(mark);
    // Nothing about the owner's team changed.
    expect((await call("GET", `/teams/${owner.ids.team}/members`, { headers: owner.auth })).json.members).toHaveLength(1);
  });
});

/** A valid-looking body for a session route, aimed at the owner's team. */
function exampleWithIds(op: Operation, owner: Fixture): unknown {
  if (op.key === "POST /invitations/accept") return { token: "inv_token_that_is_not_the_strangers" };
  if (op.key.includes("/members/")) return { role: "admin" };
  if (op.key.includes("/members")) return { email: "stranger-target@example.com", role: "admin" };
  if (op.key.includes("/apikeys")) return { name: "stranger key" };
  return { teamId: owner.ids.team };
}
