import { env } from "cloudflare:test";
import { call } from "./api";

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A fresh namespace on the fake upstream server, and a reader for what it received. */
export function upstreamNamespace() {
  const ns = crypto.randomUUID();
  return {
    url: (path: string) => `${env.UPSTREAM_URL}/ns/${ns}/${path.replace(/^\//, "")}`,
    records: async (): Promise<Recorded[]> => (await fetch(`${env.UPSTREAM_URL}/__records/${ns}`)).json(),
  };
}

/** Long-polls a task until final (the real local queue delivers it). */
export async function awaitTask(key: string, id: string, seconds = 60) {
  const res = await call("GET", `/v1/tasks/${id}?wait=${seconds}`, { key });
  return res.json.task;
}
