/**
 * A real local HTTP server standing in for third-party APIs (Node side; used by the workers
 * project's global setup and by the e2e suite). Each test works under its own namespace,
 * `/ns/<id>/...`, and reads back what the server received with `GET /__records/<id>`.
 *
 *   /ns/<id>/ok                     200 {"ok":true}
 *   /ns/<id>/echo                   200, echoes the Authorization header in body and header
 *   /ns/<id>/status/<code>          that status; ?retryAfter=<s> sets Retry-After
 *   /ns/<id>/flaky/<n>              500 for the first n calls, then 200
 *   /ns/<id>/slow/<ms>              answers after <ms>
 *   /ns/<id>/hang                   answers only when released (POST /__release/<id>) or the caller gives up;
 *                                   GET /__hanging/<id> says how many are open now and the most ever open at once
 *   /ns/<id>/redirect?to=<url>&code=<3xx>
 *   /ns/<id>/echo-request           200 {method, path, headers, body}: everything received (the proxy's tests)
 *   /ns/<id>/cookie                 200 with Set-Cookie and x-upstream headers
 *   /ns/<id>/gzip                   200 {"ok":true,"pad":...} gzip-encoded, with its Content-Length
 *   /ns/<id>/sse                    text/event-stream: one event at once, the last only when released
 *                                   (POST /__release/<id>), so a test can read the first before the last is sent
 *   /ns/<id>/webhook                200 (records the delivery)
 *   /ns/<id>/big/<bytes>            a body of that many bytes
 *   /ns/<id>/echo-at/<offset>       <offset> filler bytes, then the Authorization header (tests redaction at the cut)
 *   /ns/<id>/echo-b64               the Authorization header's value, base64-encoded
 *   /ns/<id>/echo-encoded           the Authorization header's value (without "Bearer ") in every form of
 *                                   test/helpers/encodings.ts: in a JSON body ({"state":"done","forms":{...}},
 *                                   each form written raw where JSON allows), in header values, and as
 *                                   header names (x-<secret>, x-<hex>); ?status=<code> answers that status
 *   fal queue API:        POST /ns/<id>/fal/<model...>            (model "fail" fails on the result fetch;
 *                                                                 ?foreign=1 returns status/response URLs on another origin)
 *                         GET  /ns/<id>/fal/requests/<rid>/status  IN_QUEUE, IN_PROGRESS, then COMPLETED
 *                         GET  /ns/<id>/fal/requests/<rid>         the result (or 422 {"detail":...})
 *   OAuth provider:       /oauth/<id>/authorize|token|api, /__oauth/<id>/config|stats|expire (oauth-provider.ts),
 *                         GET /__oauth-mint/<id> a refresh token it accepts
 *   Replicate API:        POST /ns/<id>/replicate/v1/predictions   (input.fail = true ends as "failed")
 *                         GET  /ns/<id>/replicate/v1/predictions/<pid>  starting, processing, then succeeded/failed
 *                         (input.bigLogs = true adds 200 KB of logs to every status answer)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { echoForms } from "../helpers/encodings";
import { handleOAuth, mintRefreshToken } from "./oauth-provider";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
}

export interface Upstream {
  port: number;
  /** Base URL on 127.0.0.1; the same server on `localhost` is a different origin. */
  url: string;
  records: Map<string, RecordedRequest[]>;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json", ...headers });
  res.end(text);
}

export async function startUpstream(port = 0): Promise<Upstream> {
  const records = new Map<string, RecordedRequest[]>();
  const counters = new Map<string, number>();
  /** Open /hang requests per namespace: their release functions, and the most ever open at once. */
  const hanging = new Map<string, { open: Set<() => void>; maxOpen: number }>();
  const hangsOf = (ns: string) => {
    const entry = hanging.get(ns) ?? { open: new Set<() => void>(), maxOpen: 0 };
    hanging.set(ns, entry);
    return entry;
  };
  const bump = (key: string) => {
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    return n;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const self = `http://${req.headers.host}`;
    const foreign = self.includes("127.0.0.1") ? self.replace("127.0.0.1", "localhost") : self.replace("localhost", "127.0.0.1");
    // A fake OAuth provider per namespace (oauth-provider.ts).
    if (await handleOAuth(req, res, url, body)) return;
    // A refresh token the provider of <ns> accepts, as if obtained elsewhere (paste tests).
    if (url.pathname.startsWith("/__oauth-mint/")) return send(res, 200, { refresh_token: mintRefreshToken(url.pathname.slice("/__oauth-mint/".length)) });
    if (url.pathname.startsWith("/__records/")) {
      return send(res, 200, records.get(url.pathname.slice("/__records/".length)) ?? []);
    }
    if (url.pathname.startsWith("/__hanging/")) {
      const entry = hangsOf(url.pathname.slice("/__hanging/".length));
      return send(res, 200, { open: entry.open.size, maxOpen: entry.maxOpen });
    }
    if (url.pathname.startsWith("/__release/")) {
      const entry = hangsOf(url.pathname.slice("/__release/".length));
      const released = entry.open.size;
      for (const done of [...entry.open]) done();
      return send(res, 200, { released });
    }
    const match = /^\/ns\/([^/]+)\/(.*)$/.exec(url.pathname);
    if (!match) return send(res, 404, { error: "unknown path" });
    const [, ns = "", rest = ""] = match;
    const list = records.get(ns) ?? [];
    list.push({ method: req.method ?? "GET", path: `/${rest}${url.search}`, headers: req.headers as Record<string, string>, body, at: Date.now() });
    records.set(ns, list);
    const base = `${self}/ns/${ns}`;
    const parts = rest.split("/");

    switch (parts[0]) {
      case "ok":
      case "webhook":
        return send(res, 200, { ok: true });
      case "echo":
        return send(res, 200, { authorization: req.headers.authorization ?? null }, { "x-echo": String(req.headers.authorization ?? "") });
      case "status": {
        const retryAfter = url.searchParams.get("retryAfter");
        return send(res, Number(parts[1]), { status: Number(parts[1]) }, retryAfter ? { "retry-after": retryAfter } : {});
      }
      case "flaky": {
        const n = bump(`${ns}/flaky`);
        return n <= Number(parts[1]) ? send(res, 500, { error: "flaky", call: n }) : send(res, 200, { ok: true, call: n });
      }
      case "hang": {
        const entry = hangsOf(ns);
        let done!: () => void;
        const released = new Promise<void>((resolve) => (done = resolve));
        entry.open.add(done);
        entry.maxOpen = Math.max(entry.maxOpen, entry.open.size);
        // The caller's timeout closes the connection: that frees the slot here too.
        res.once("close", done);
        await released;
        entry.open.delete(done);
        if (!res.writableEnded && !res.destroyed) send(res, 200, { ok: true, released: true });
        return;
      }
      case "echo-request":
        return send(res, 200, { method: req.method, path: `/${rest}${url.search}`, headers: req.headers, body });
      case "gzip": {
        const zipped = gzipSync(JSON.stringify({ ok: true, pad: "z".repeat(2000) }));
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": String(zipped.length) });
        return res.end(zipped);
      }
      case "cookie":
        return send(res, 200, { ok: true }, { "set-cookie": "session=upstream-session; Path=/", "x-upstream": "yes" });
      case "sse": {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        res.write("data: first\n\n");
        const entry = hangsOf(ns);
        let done!: () => void;
        const released = new Promise<void>((resolve) => (done = resolve));
        entry.open.add(done);
        entry.maxOpen = Math.max(entry.maxOpen, entry.open.size);
        res.once("close", done);
        await released;
        entry.open.delete(done);
        if (!res.writableEnded && !res.destroyed) res.end("data: last\n\n");
        return;
      }
      case "slow":
        await new Promise((r) => setTimeout(r, Number(parts[1])));
        return send(res, 200, { ok: true, slow: true });
      case "big":
        return send(res, 200, "x".repeat(Number(parts[1])));
      case "echo-at":
        return send(res, 200, "x".repeat(Number(parts[1])) + String(req.headers.authorization ?? "") + "-end");
      case "echo-encoded":
        return echoEncoded(res, String(req.headers.authorization ?? "").replace(/^Bearer /, ""), Number(url.searchParams.get("status") ?? 200));
      case "echo-b64":
        return send(res, 200, { seen: Buffer.from(String(req.headers.authorization ?? "").replace(/^Bearer /, "")).toString("base64") });
      case "redirect": {
        res.writeHead(Number(url.searchParams.get("code") ?? 302), { location: url.searchParams.get("to") ?? "/" });
        return res.end();
      }
      case "fal":
        return fal(req, res, parts.slice(1), base, url, foreign, ns, bump);
      case "replicate":
        return replicate(req, res, parts.slice(1), base, body, bump, ns);
      default:
        return send(res, 404, { error: "unknown path" });
    }
  };

  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      handle(req, res, body).catch((error: unknown) => send(res, 500, { error: String(error) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    records,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A target that echoes a secret in every form a redactor must recognise (issue 9, finding 2). */
function echoEncoded(res: ServerResponse, secret: string, status: number) {
  const forms = echoForms(secret);
  const isJsonText = (form: string) => {
    try {
      JSON.parse(`"${form}"`);
      return true;
    } catch {
      return false;
    }
  };
  // Written by hand so that each form appears in the body as is (JSON.stringify would escape some again).
  const entries = Object.entries(forms).map(([name, form]) => `${JSON.stringify(name)}:${isJsonText(form) ? `"${form}"` : JSON.stringify(form)}`);
  const body = `{"state":"done","forms":{${entries.join(",")}}}`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  Object.values(forms).forEach((form, i) => (headers[`x-echo-${i}`] = form));
  for (const name of [`x-${secret}`, `x-${forms["hex lower"]}`]) if (TOKEN.test(name)) headers[name] = "1";
  res.writeHead(status, headers);
  res.end(body);
}

function fal(req: IncomingMessage, res: ServerResponse, parts: string[], base: string, url: URL, foreign: string, ns: string, bump: (k: string) => number) {
  if (req.method === "POST") {
    const requestId = `req-${Math.random().toString(36).slice(2, 10)}${parts.join("-").includes("fail") ? "-fail" : ""}`;
    const root = url.searchParams.get("foreign") ? base.replace(/^http:\/\/[^/]+/, foreign) : base;
    return send(res, 200, {
      request_id: requestId,
      status_url: `${root}/fal/requests/${requestId}/status`,
      response_url: `${root}/fal/requests/${requestId}`,
      cancel_url: `${root}/fal/requests/${requestId}/cancel`,
    });
  }
  if (parts[0] === "requests" && parts[2] === "status") {
    const n = bump(`${ns}/fal/${parts[1]}`);
    const status = n === 1 ? "IN_QUEUE" : n === 2 ? "IN_PROGRESS" : "COMPLETED";
    // Like fal: 202 while the request is queued or running, 200 once it is done.
    return send(res, status === "COMPLETED" ? 200 : 202, { status, request_id: parts[1], ...(status === "IN_QUEUE" ? { queue_position: 0 } : {}) });
  }
  if (parts[0] === "requests" && parts[1]) {
    if (parts[1].endsWith("-fail")) return send(res, 422, { detail: "Prompt was flagged by the safety checker" });
    return send(res, 200, { images: [{ url: "https://fal.media/files/result.png", width: 1024, height: 768 }], seed: 42 });
  }
  return send(res, 404, { detail: "Not found" });
}

function replicate(req: IncomingMessage, res: ServerResponse, parts: string[], base: string, body: string, bump: (k: string) => number, ns: string) {
  if (req.method === "POST" && parts.join("/") === "v1/predictions") {
    let input: { fail?: boolean; bigLogs?: boolean } = {};
    try {
      input = (JSON.parse(body) as { input?: typeof input }).input ?? {};
    } catch {
      return send(res, 422, { detail: "invalid JSON" });
    }
    const id = `p${Math.random().toString(36).slice(2, 10)}${input.bigLogs ? "_big" : ""}${input.fail ? "_fail" : ""}`;
    return send(res, 201, {
      id,
      status: "starting",
      urls: { get: `${base}/replicate/v1/predictions/${id}`, cancel: `${base}/replicate/v1/predictions/${id}/cancel` },
    });
  }
  if (req.method === "GET" && parts[0] === "v1" && parts[1] === "predictions" && parts[2]) {
    const id = parts[2];
    const n = bump(`${ns}/replicate/${id}`);
    const logs = id.includes("_big") ? "l".repeat(200_000) : "";
    if (n === 1) return send(res, 200, { id, logs, status: "starting", output: null, error: null });
    if (n === 2) return send(res, 200, { id, logs, status: "processing", output: null, error: null });
    return id.endsWith("_fail")
      ? send(res, 200, { id, logs, status: "failed", output: null, error: "CUDA out of memory" })
      : send(res, 200, { id, logs, status: "succeeded", output: ["https://replicate.delivery/out-0.png"], error: null });
  }
  return send(res, 404, { detail: "Not found" });
}
