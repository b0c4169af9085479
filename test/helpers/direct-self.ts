import worker from "../../src/index";

type CloudflareTest = typeof import("cloudflare:test");

/**
 * `cloudflare:test` with SELF.fetch calling the Worker's own fetch handler (src/index.ts, the
 * module instance SELF serves) in this isolate, for a file that sends thousands of requests.
 *
 * Why: under @cloudflare/vitest-pool-workers (0.15.1: createProxyPrototypeClass in
 * dist/worker/lib/cloudflare/test-internal.mjs) every SELF.fetch constructs the entrypoint
 * wrapper, whose constructor wraps its class prototype in one more Proxy, so each call walks one
 * more layer than the last (workers-sdk#15446): per-request cost grows with the number of calls
 * made in the file, and a file of ~1,600 requests ends at about a second per request. The handler,
 * D1, Durable Objects and Queues are the same real bindings; what is skipped is the service
 * binding's transport. Each request's waitUntil work is awaited before the answer is returned,
 * so row counts taken after it see everything it wrote.
 *
 * Used through `vi.mock("cloudflare:test", ...)` (the factory passes the original module), so
 * the shared helpers (test/helpers/api.ts) send through it unchanged.
 */
export function withDirectSelf(original: CloudflareTest): CloudflareTest {
  const fetchOnce = async (request: Request): Promise<Response> => {
    const exec = original.createExecutionContext();
    // No cf properties, as with SELF: the local runtime has no edge to fill them in.
    const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, original.env, exec);
    // The body is read before the context is awaited: a streamed answer may be what it waits on.
    const body = res.body === null ? null : await res.arrayBuffer();
    await original.waitOnExecutionContext(exec);
    return new Response(body, res);
  };
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    let request = new Request(input, init);
    // SELF.fetch follows redirects as fetch does (redirect: "follow"), e.g. /oauth/callback's
    // 303 to the completion page; so does this, through the same handler.
    for (let hops = 0; ; hops++) {
      const res = await fetchOnce(request);
      const location = res.headers.get("location");
      if (request.redirect === "manual" || location === null || ![301, 302, 303, 307, 308].includes(res.status)) return res;
      if (hops === 20) throw new TypeError("Too many redirects");
      // As the fetch standard has it: a 303 (or a 301/302 after a POST) is followed with a GET, without the body.
      const toGet = (res.status === 303 && !["GET", "HEAD"].includes(request.method)) || ([301, 302].includes(res.status) && request.method === "POST");
      if (!toGet && request.body !== null) return res; // Its body is spent; no route here answers such a redirect.
      request = new Request(new URL(location, request.url), { method: toGet ? "GET" : request.method, headers: request.headers, redirect: request.redirect });
    }
  };
  // Only fetch is sent through SELF here; the other Fetcher members stay the real binding's.
  const self = new Proxy(original.SELF, { get: (target, p) => (p === "fetch" ? fetch : Reflect.get(target, p)) });
  return { ...original, SELF: self };
}
