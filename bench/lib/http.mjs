// HTTP to the Worker (and the target) from Node.
import http from "node:http";

/**
 * The Worker under test: its base URL, keep-alive agent and workerd pids, filled in once
 * Miniflare is up; `served` counts the responses it gave (for the memory-per-request figure).
 */
export const client = { base: undefined, agent: undefined, workerdPids: [], served: 0 };

/** One HTTP request over a keep-alive agent; returns status, parsed JSON body and round-trip ms. */
export function request(base, method, path, { headers = {}, body, host, agent } = {}) {
  const payload = body === undefined ? undefined : typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      new URL(path, base),
      {
        method,
        agent: agent ?? client.agent,
        headers: {
          ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          ...(host ? { host } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const ms = performance.now() - started;
          if (base === client.base) client.served++;
          const text = Buffer.concat(chunks).toString("utf8");
          let json;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, json, text, ms });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
