/**
 * The operations the cost model prices, run through the real Worker (its fetch and queue
 * handlers) with metered bindings (meter.ts): each operation's D1 statements, rows, Durable
 * Object requests and queue operations. Shared by the bench (bench/resolve-worker.ts, GET /cost)
 * and the pinned counts (test/cost.integration.test.ts), so both count the same thing.
 *
 * Steady state is measured: a warm-up request first puts the API key in its team's gate, so
 * authentication is the one gate RPC of the hot path (a cold key adds one RPC and one D1 read),
 * and every operation runs once uncounted before it is counted. What an operation needs (a
 * second key with secrets:reveal, a credential, a named secret, a gateway service) is made
 * through the Worker's own API first, uncounted.
 */
import worker from "../../src/index";
import type { Env } from "../../src/env";
import type { QueueMessage } from "../../src/queue/messages";
import { emptyCounts, meter, type Counts, type Meter, type Sent } from "./meter";
import { measureProxyRequest } from "./proxy";

export const OPERATIONS = {
  "token.create": "POST /v1/tokens",
  "task.0refs": "POST /v1/tasks, run to completion, 0 references",
  "task.1ref": "POST /v1/tasks, run to completion, 1 reference (the simple task)",
  "task.3refs": "POST /v1/tasks, run to completion, 3 references",
  "lease.create": "POST /v1/leases (a typed credential's value, leased)",
  "secret.retrieve": "GET /vault/secrets/:name (a named secret's value at runtime)",
  "proxy.request": "GET /s/:service/... (a warm proxied request, bearer credential injected; request-log row amortised over a batch of 50)",
} as const;
export type Operation = keyof typeof OPERATIONS;

export interface ScenarioInput {
  /**
   * An API key of a fresh Pro team (its tokens, tasks and gateway service are created here; a
   * second key, with secrets:reveal, is made through the admin API with env.ADMIN_TOKEN).
   */
  key: string;
  /** A target that answers 200 at once (the gateway's service is its host: a loopback target needs ALLOW_LOOPBACK_TARGETS). */
  targetUrl: string;
}

type Json = Record<string, Record<string, string>> & { vaults?: { id: string }[] };

/** An ExecutionContext whose waitUntil work is awaited (and so counted) before the operation ends. */
function executionContext() {
  const pending: Promise<unknown>[] = [];
  const exec = {
    waitUntil: (p: Promise<unknown>) => void pending.push(p),
    passThroughOnException: () => undefined,
    props: {},
  } as unknown as ExecutionContext;
  return { exec, settle: async () => void (await Promise.allSettled(pending.splice(0))) };
}

async function http(m: Meter, method: string, path: string, key: string, body?: unknown): Promise<Json> {
  const { exec, settle } = executionContext();
  m.counts.invocations += 1;
  const response = await worker.fetch(
    new Request(`https://vault.cost${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    m.env,
    exec,
  );
  const text = await response.text();
  await settle();
  if (response.status >= 300) throw new Error(`cost scenario: ${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as Json;
}

/**
 * Carries every message sent (and every message retried) to the real consumer, one message per
 * batch, until none is left: one queue read per delivery, one delete per ack.
 */
async function drain(m: Meter): Promise<void> {
  const due: Sent[] = m.take();
  for (let deliveries = 0; due.length > 0; deliveries++) {
    if (deliveries > 50) throw new Error("cost scenario: the task never settled");
    const sent = due.shift() as Sent;
    let outcome: "ack" | "retry" | undefined;
    const message = {
      id: `cost-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body: sent.body,
      ack: () => void (outcome = "ack"),
      retry: () => void (outcome = "retry"),
    };
    const batch = { queue: "token-vault-tasks", messages: [message], ackAll: () => undefined, retryAll: () => undefined } as unknown as MessageBatch<QueueMessage>;
    m.counts.invocations += 1;
    m.counts.queueReads += 1;
    // No ExecutionContext: the consumer awaits every step to its end (as the tests drive it).
    await worker.queue(batch, m.env);
    if (outcome === "ack") m.counts.queueDeletes += 1;
    else due.push(sent);
    due.push(...m.take());
  }
}

/** Runs every operation once (after a warm-up) and returns each one's counts. */
export async function measureOperations(real: Env, input: ScenarioInput, trace?: Record<string, Meter["statements"]>): Promise<Record<Operation, Counts>> {
  const m = meter(real);
  let measured = 0;
  const measure = async (run: () => Promise<void>): Promise<Counts> => {
    m.reset();
    await run();
    await drain(m);
    if (trace) trace[Object.keys(OPERATIONS)[measured] ?? String(measured)] = [...m.statements];
    measured += 1;
    return { ...m.counts };
  };
  await http(m, "GET", "/v1/tokens", input.key);
  const tokens: string[] = [];
  const createToken = async () => {
    const created = await http(m, "POST", "/v1/tokens", input.key, { name: `cost ${tokens.length}`, value: `cost-value-${crypto.randomUUID()}` });
    tokens.push(created.token?.id ?? "");
  };
  await createToken();
  await createToken();
  const tokenCreate = await measure(createToken);
  const runTask = (refs: string[]) => async () => {
    const headers = Object.fromEntries(refs.map((ref, i) => [`x-credential-${i}`, `Bearer ${ref}`]));
    const created = await http(m, "POST", "/v1/tasks", input.key, { targetUrl: input.targetUrl, method: "POST", headers, body: "{}" });
    const id = created.task?.id ?? "";
    await drain(m);
    const row = await real.DB.prepare("SELECT status FROM tasks WHERE id = ?").bind(id).first<{ status: string }>();
    if (row?.status !== "completed") throw new Error(`cost scenario: task ended ${row?.status ?? "missing"}`);
  };
  const tasks = {
    "task.0refs": await measure(runTask([])),
    "task.1ref": await measure(runTask(tokens.slice(0, 1))),
    "task.3refs": await measure(runTask(tokens.slice(0, 3))),
  };

  // An app's runtime key: the team's first key has the default scopes, never secrets:reveal.
  const vault = (await http(m, "GET", "/v1/vaults", input.key)).vaults?.[0]?.id ?? "";
  const app = await http(m, "POST", `/admin/teams/${vault}/apikeys`, real.ADMIN_TOKEN ?? "", { name: "cost app", scopes: ["secrets:read", "secrets:write", "secrets:reveal"] });
  const appKey = (app as unknown as { key: string }).key;
  await http(m, "POST", "/v1/credentials", appKey, { name: "cost-credential", type: "api-key", value: `cost-value-${crypto.randomUUID()}` });
  const lease = async () => void (await http(m, "POST", "/v1/leases", appKey, { credentialName: "cost-credential", identity: { type: "service", name: "cost" } }));
  await lease();
  const leaseCreate = await measure(lease);
  await http(m, "POST", "/vault/secrets", appKey, { name: "cost_secret", value: `cost-value-${crypto.randomUUID()}` });
  const retrieve = async () => void (await http(m, "GET", "/vault/secrets/cost_secret", appKey));
  await retrieve();
  const secretRetrieve = await measure(retrieve);

  // The gateway: a KEY and a bearer service naming it, on the target's host.
  const target = new URL(input.targetUrl);
  await http(m, "POST", `/v1/vaults/${vault}/credentials`, input.key, { credentials: { COST_KEY: `cost-value-${crypto.randomUUID()}` } });
  await http(m, "POST", `/v1/vaults/${vault}/services`, input.key, { name: "cost", host: target.host, auth: { type: "bearer", token: "COST_KEY" } });
  m.reset();
  const proxyRequest = await measureProxyRequest(m, `https://vault.cost/s/cost${target.pathname}${target.search}`, input.key);

  return { "token.create": tokenCreate, ...tasks, "lease.create": leaseCreate, "secret.retrieve": secretRetrieve, "proxy.request": proxyRequest };
}

export { emptyCounts, type Counts };
