/**
 * Cloudflare Workers Paid list prices (USD), as published on developers.cloudflare.com pricing
 * pages (Workers, D1, Durable Objects, Queues), read 2026-07 (bench/README.md cites them). The
 * monthly included amounts are ignored: these are marginal prices, what one more operation costs.
 */
import type { Counts } from "./meter";

export const PRICES = {
  /** Workers Standard: per million requests (HTTP requests and queue consumer invocations). */
  workerRequest: 0.3,
  /** Workers Standard: per million CPU milliseconds. */
  workerCpuMs: 0.02,
  /** D1: per million rows read / rows written (index writes count as rows written). */
  d1RowRead: 0.001,
  d1RowWritten: 1.0,
  /** Durable Objects: per million requests (every RPC method call is one). */
  doRequest: 0.15,
  /** Durable Objects: per million GB-s of wall-clock duration (128 MB per object). */
  doGbSecond: 12.5,
  /** SQLite-backed Durable Object storage: per million rows written (as D1). */
  doRowWritten: 1.0,
  /** Queues: per million operations (a message is a write, a read and a delete; per 64 KB). */
  queueOperation: 0.4,
} as const;

/**
 * What is not counted by the meter and is assumed instead (stated with every figure):
 * CPU per invocation, the wall time a gate RPC keeps its object active, and the rows the gate
 * writes to its own SQLite storage per RPC kind (src/gate: a call slot is one INSERT and one
 * DELETE; an admitted request is mirrored to storage in batches, about one row).
 */
export const ASSUMPTIONS = {
  cpuMsPerInvocation: 2,
  doActiveSecondsPerRequest: 0.005,
  doRowsWrittenPerRequest: 1,
} as const;

export interface Priced {
  /** Dollars per million operations, by where the money goes. */
  workers: number;
  d1Writes: number;
  d1Reads: number;
  durableObjects: number;
  queues: number;
  total: number;
}

/** Dollars per million of an operation with these counts. */
export function price(c: Counts): Priced {
  const workers = c.invocations * (PRICES.workerRequest + ASSUMPTIONS.cpuMsPerInvocation * PRICES.workerCpuMs);
  const d1Writes = c.rowsWritten * PRICES.d1RowWritten;
  const d1Reads = c.rowsRead * PRICES.d1RowRead;
  const durableObjects =
    c.doRequests * (PRICES.doRequest + ASSUMPTIONS.doActiveSecondsPerRequest * 0.128 * PRICES.doGbSecond + ASSUMPTIONS.doRowsWrittenPerRequest * PRICES.doRowWritten);
  const queues = (c.queueWrites + c.queueReads + c.queueDeletes) * PRICES.queueOperation;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    workers: round(workers),
    d1Writes: round(d1Writes),
    d1Reads: round(d1Reads),
    durableObjects: round(durableObjects),
    queues: round(queues),
    total: round(workers + d1Writes + d1Reads + durableObjects + queues),
  };
}
