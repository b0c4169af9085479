import type { Env } from "../env";
import { ulid } from "../ids";
import { log } from "../log";

/**
 * The proxy's request log (proxy_log): metadata only (method, host, path without the query,
 * service, the KEYs injected, status, the vault's refusal code, duration), never a header, a
 * query string or a body.
 *
 * Rows are not written inline: each isolate buffers them and writes them in one D1 batch per
 * FLUSH_DELAY_MS (or as soon as MAX_BATCH are waiting), from the request's waitUntil, so the
 * proxy's warm path makes no D1 query and a busy vault costs one D1 round trip per batch, not per
 * request. The price: rows buffered in an isolate that is evicted before its flush are lost
 * (the log is an account of use, not the audit trail; credential changes are audited in D1 with
 * the change itself).
 */
export interface ProxyLogEntry {
  teamId: string;
  apiKeyId: string | null;
  method: string;
  host: string;
  path: string;
  service: string | null;
  credentialKeys: string[];
  status: number;
  errorCode: string | null;
  durationMs: number;
}

export const FLUSH_DELAY_MS = 1000;
export const MAX_BATCH = 50;
const MAX_BUFFERED = 5000;
const MAX_PATH = 512;

/** D1 batches written by this isolate's request log: observable, so tests can count them. */
export const proxyLogWrites = { batches: 0, rows: 0, dropped: 0 };

let buffer: (ProxyLogEntry & { id: string; createdAt: string })[] = [];
let scheduled = false;

/** Buffers one row; schedules the flush on the request's waitUntil. */
export function recordProxyRequest(env: Pick<Env, "DB">, exec: Pick<ExecutionContext, "waitUntil">, entry: ProxyLogEntry): void {
  if (buffer.length >= MAX_BUFFERED) {
    proxyLogWrites.dropped++;
    return;
  }
  const now = Date.now();
  buffer.push({ ...entry, path: entry.path.slice(0, MAX_PATH), id: `plog_${ulid(now)}`, createdAt: new Date(now).toISOString() });
  if (buffer.length >= MAX_BATCH) {
    exec.waitUntil(flushProxyLog(env));
  } else if (!scheduled) {
    scheduled = true;
    exec.waitUntil(
      new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS)).then(() => {
        scheduled = false;
        return flushProxyLog(env);
      }),
    );
  }
}

/** Writes everything buffered now, MAX_BATCH rows per D1 batch (tests call it to see their rows at once). */
export async function flushProxyLog(env: Pick<Env, "DB">): Promise<void> {
  while (buffer.length > 0) {
    const rows = buffer.slice(0, MAX_BATCH);
    buffer = buffer.slice(rows.length);
    proxyLogWrites.batches++;
    proxyLogWrites.rows += rows.length;
    try {
      await env.DB.batch(
        rows.map((r) =>
          env.DB
            .prepare(
              `INSERT INTO proxy_log (id, team_id, api_key_id, method, host, path, service, credential_keys, status, error_code, duration_ms, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .bind(r.id, r.teamId, r.apiKeyId, r.method, r.host, r.path, r.service, JSON.stringify(r.credentialKeys), r.status, r.errorCode, r.durationMs, r.createdAt),
        ),
      );
    } catch (error) {
      proxyLogWrites.dropped += rows.length;
      log.warn("proxy_log_write_failed", { rows: rows.length, errorName: error instanceof Error ? error.name : typeof error });
    }
  }
}
