import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Counts } from "../bench/cost/meter";
import { measureOperations, OPERATIONS, type Operation } from "../bench/cost/scenarios";
import { newTeam } from "./helpers/api";
import { upstreamNamespace } from "./helpers/tasks";

/**
 * The deterministic part of the cost model (bench/README.md, section 8): what each hot path
 * asks of D1, Durable Objects and the queue, counted through the real Worker with metered
 * bindings. A change that adds a round trip, a statement, a row written (index writes count),
 * a DO request or a queue operation fails here, naming the path and the figure. Lower is
 * welcome: update the pin (and bench/README.md's table) in the same change.
 *
 * A proxied request writes its request-log row in a batch of up to 50 (src/gateway/request-log.ts):
 * its statement and rows written count in full, its round trip as 1/50 (bench/cost/proxy.ts).
 *
 * Rows read are not pinned: they depend on the query plans' exact walk; they are priced at
 * $0.001 per million and show up in the bench.
 */
type Pinned = Omit<Counts, "rowsRead">;
const PINNED: Record<Operation, Pinned> = {
  "token.create": { invocations: 1, d1RoundTrips: 1, d1Statements: 2, rowsWritten: 8, doRequests: 1, queueWrites: 0, queueReads: 0, queueDeletes: 0 },
  "task.0refs": { invocations: 2, d1RoundTrips: 3, d1Statements: 6, rowsWritten: 12, doRequests: 1, queueWrites: 1, queueReads: 1, queueDeletes: 1 },
  "task.1ref": { invocations: 2, d1RoundTrips: 3, d1Statements: 9, rowsWritten: 16, doRequests: 1, queueWrites: 1, queueReads: 1, queueDeletes: 1 },
  "task.3refs": { invocations: 2, d1RoundTrips: 3, d1Statements: 11, rowsWritten: 24, doRequests: 1, queueWrites: 1, queueReads: 1, queueDeletes: 1 },
  // A credential read (its policy sets the ttl and maxLeases), then one batch: the guarded insert, its audit row, the sealed value.
  "lease.create": { invocations: 1, d1RoundTrips: 2, d1Statements: 4, rowsWritten: 9, doRequests: 1, queueWrites: 0, queueReads: 0, queueDeletes: 0 },
  // One batch: the secret and its retrieval audit row.
  "secret.retrieve": { invocations: 1, d1RoundTrips: 1, d1Statements: 2, rowsWritten: 4, doRequests: 1, queueWrites: 0, queueReads: 0, queueDeletes: 0 },
  // No D1 query inline; the request-log row is one INSERT of a batch of up to 50: 1/50 of its round trip.
  "proxy.request": { invocations: 1, d1RoundTrips: 0.02, d1Statements: 1, rowsWritten: 3, doRequests: 1, queueWrites: 0, queueReads: 0, queueDeletes: 0 },
};

describe("what each operation costs (pinned counts)", () => {
  it("matches the pinned D1, Durable Object and queue counts of every hot path", async () => {
    const team = await newTeam();
    const trace: Parameters<typeof measureOperations>[2] = {};
    const measured = await measureOperations(env, { key: team.key, targetUrl: upstreamNamespace().url("/ok") }, trace);
    const changes: string[] = [];
    for (const op of Object.keys(PINNED) as Operation[]) {
      for (const [figure, pinned] of Object.entries(PINNED[op]) as [keyof Pinned, number][]) {
        const now = measured[op][figure];
        if (now !== pinned) changes.push(`${op} (${OPERATIONS[op]}): ${figure} ${pinned} -> ${now} (${now > pinned ? "+" : ""}${now - pinned})`);
      }
    }
    // Where each changed figure comes from: the operation's statements with D1's own counts.
    const changed = [...new Set(changes.map((c) => c.split(" ")[0]!))];
    const statements = changed.map((op) => `${op}:\n${(trace?.[op] ?? []).map((st) => `  ${st.rowsWritten} written, ${st.rowsRead} read: ${st.sql}`).join("\n")}`);
    expect(changes, `cost counts changed:\n${changes.join("\n")}\n\n${statements.join("\n")}`).toEqual([]);
  });
});
