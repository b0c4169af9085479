import type { VaultContext } from "../context";
import { listPage, type PageQuery } from "../http/schemas";
import { parseJsonArray } from "../vault/store";

/** The proxy's request log (written by the proxy, metadata only), newest first. */
interface ProxyLogRow {
  id: string;
  api_key_id: string | null;
  method: string;
  host: string;
  path: string;
  service: string | null;
  credential_keys: string;
  status: number;
  error_code: string | null;
  duration_ms: number;
  created_at: string;
}

export async function listProxyLog(ctx: VaultContext, query: PageQuery & { service?: string | undefined; status?: number | undefined }) {
  const { items, pagination } = await listPage<ProxyLogRow>(ctx.env.DB, { table: "proxy_log", filters: { team_id: ctx.team.id, service: query.service, status: query.status } }, query);
  return {
    entries: items.map((r) => ({
      id: r.id,
      method: r.method,
      host: r.host,
      path: r.path,
      service: r.service,
      credentialKeys: parseJsonArray(r.credential_keys),
      status: r.status,
      errorCode: r.error_code,
      durationMs: r.duration_ms,
      apiKeyId: r.api_key_id,
      createdAt: r.created_at,
    })),
    pagination,
  };
}
