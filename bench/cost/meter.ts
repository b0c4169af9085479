/**
 * A metered copy of the Worker's bindings, for the cost model (bench/cost/, the pinned counts in
 * test/cost.integration.test.ts). Nothing is faked: every D1 statement runs on the real
 * database and the counts are what D1 itself reports in `meta` (rows_read, rows_written, index
 * writes included); every Durable Object RPC reaches the real object. The one binding replaced
 * is the queue producer: its sends are recorded (one queue write each) and the caller carries
 * them to the real consumer itself (`deliver` in scenarios.ts), so the consumer's work is counted
 * and no background consumer races it.
 */
import type { Env } from "../../src/env";
import type { QueueMessage } from "../../src/queue/messages";

export interface Counts {
  /** Worker invocations: HTTP requests plus queue batches (billed as Workers requests). */
  invocations: number;
  /** D1 round trips: one per run/all/first/raw call or per batch. */
  d1RoundTrips: number;
  d1Statements: number;
  rowsRead: number;
  rowsWritten: number;
  /** Durable Object requests: every RPC method call on a stub is one billed request. */
  doRequests: number;
  /** Queue operations (per 64 KB; every message here is far smaller): write, read, delete. */
  queueWrites: number;
  queueReads: number;
  queueDeletes: number;
}

export const emptyCounts = (): Counts => ({
  invocations: 0,
  d1RoundTrips: 0,
  d1Statements: 0,
  rowsRead: 0,
  rowsWritten: 0,
  doRequests: 0,
  queueWrites: 0,
  queueReads: 0,
  queueDeletes: 0,
});

export interface Sent {
  body: QueueMessage;
  delaySeconds: number;
}

interface D1Meta {
  rows_read?: number;
  rows_written?: number;
}

export interface Meter {
  env: Env;
  counts: Counts;
  /** Every statement run, with what D1 reported for it: where a figure comes from. */
  /** `roundTrip`: which D1 round trip of the measurement ran it (a batch's statements share one). */
  statements: { sql: string; rowsRead: number; rowsWritten: number; text: string; args: unknown[]; roundTrip: number }[];
  /** Messages sent and not yet taken by `take()`. */
  outbox: Sent[];
  take(): Sent[];
  reset(): void;
}

export function meter(real: Env): Meter {
  const counts = emptyCounts();
  const outbox: Sent[] = [];
  const statements: Meter["statements"] = [];
  const sqlOf = new WeakMap<object, { text: string; args: unknown[] }>();
  const add = (meta: D1Meta | undefined, statement?: D1PreparedStatement) => {
    const known = statement ? sqlOf.get(statement) : undefined;
    const text = known?.text ?? "?";
    statements.push({ sql: text.replace(/\s+/g, " ").slice(0, 160), rowsRead: meta?.rows_read ?? 0, rowsWritten: meta?.rows_written ?? 0, text, args: known?.args ?? [], roundTrip: counts.d1RoundTrips });
    counts.d1Statements += 1;
    counts.rowsRead += meta?.rows_read ?? 0;
    counts.rowsWritten += meta?.rows_written ?? 0;
  };

  // Statements stay the real D1PreparedStatement objects (batch() needs them); only their
  // methods that reach D1 are wrapped. first() and raw() report no meta, so they go through
  // all() and give the same answer.
  const instrument = (statement: D1PreparedStatement, sql: string, args: unknown[] = []): D1PreparedStatement => {
    sqlOf.set(statement, { text: sql, args });
    const bind = statement.bind.bind(statement);
    const all = statement.all.bind(statement);
    const run = statement.run.bind(statement);
    Object.assign(statement, {
      bind: (...values: unknown[]) => instrument(bind(...values), sql, values),
      all: async () => {
        counts.d1RoundTrips += 1;
        const result = await all();
        add(result.meta as D1Meta, statement);
        return result;
      },
      run: async () => {
        counts.d1RoundTrips += 1;
        const result = await run();
        add(result.meta as D1Meta, statement);
        return result;
      },
      first: async (column?: string) => {
        counts.d1RoundTrips += 1;
        const result = await all<Record<string, unknown>>();
        add(result.meta as D1Meta, statement);
        const row = result.results[0];
        if (row === undefined) return null;
        return column === undefined ? row : (row[column] ?? null);
      },
      raw: async () => {
        throw new Error("meter: raw() is not metered; add it here if the Worker starts using it");
      },
    });
    return statement;
  };

  const db = real.DB;
  const DB = {
    prepare: (sql: string) => instrument(db.prepare(sql), sql),
    batch: async (statements_: D1PreparedStatement[]) => {
      counts.d1RoundTrips += 1;
      const results = await db.batch(statements_);
      results.forEach((r, i) => add(r.meta as D1Meta, statements_[i]));
      return results;
    },
    exec: async (sql: string) => {
      counts.d1RoundTrips += 1;
      counts.d1Statements += 1;
      return db.exec(sql);
    },
    dump: () => db.dump(),
    withSession: () => {
      throw new Error("meter: withSession() is not metered");
    },
  } as unknown as D1Database;

  // Every property read on a stub is an RPC method; each call is one billed DO request.
  const meteredStub = <T extends object>(stub: T): T =>
    new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (typeof value !== "function" || typeof prop === "symbol" || prop === "then") return value;
        // Called as a method of the stub itself (an RPC stub's properties are stubs too, so
        // value.apply(...) would be an RPC call named "apply").
        return (...args: unknown[]) => {
          counts.doRequests += 1;
          return (target as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
        };
      },
    });
  const meteredNamespace = <N extends { get(id: DurableObjectId): object }>(ns: N): N =>
    new Proxy(ns, {
      get(target, prop) {
        const value = Reflect.get(target, prop) as unknown;
        if (prop === "get") return (id: DurableObjectId) => meteredStub(target.get(id));
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });

  const TASKS = {
    send: async (body: QueueMessage, options?: QueueSendOptions) => {
      counts.queueWrites += 1;
      outbox.push({ body, delaySeconds: options?.delaySeconds ?? 0 });
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<QueueMessage>>) => {
      for (const m of messages) {
        counts.queueWrites += 1;
        outbox.push({ body: m.body, delaySeconds: m.delaySeconds ?? 0 });
      }
    },
  } as unknown as Queue<QueueMessage>;

  const env: Env = {
    ...real,
    DB,
    TEAM_GATE: meteredNamespace(real.TEAM_GATE),
    // Absent in the bench Worker (no operation priced here logs in).
    ...(real.LOGIN_THROTTLE ? { LOGIN_THROTTLE: meteredNamespace(real.LOGIN_THROTTLE) } : {}),
    TASKS,
  };
  return {
    env,
    counts,
    statements,
    outbox,
    take: () => outbox.splice(0),
    reset: () => {
      Object.assign(counts, emptyCounts());
      statements.splice(0);
      outbox.splice(0);
    },
  };
}
