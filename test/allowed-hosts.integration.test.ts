import { describe, expect, it } from "vitest";
import { callOut } from "../src/tasks/http-call";
import { call } from "./helpers/api";
import { CANARY } from "./helpers/constants";
import { keyFor, proOwner } from "./helpers/store";
import { awaitTask, upstreamNamespace } from "./helpers/tasks";

/** allowedHosts (issue 10, section 3): a credential goes only to its hosts, at creation, execution and every redirect hop. */
describe("allowedHosts", () => {
  async function boundCredential(hosts: string[]) {
    const owner = await proOwner();
    const k = await keyFor(owner);
    const created = await call("POST", "/v1/credentials", { key: k.key, body: { name: "bound", type: "api-key", value: CANARY, allowedHosts: hosts } });
    expect(created.status).toBe(201);
    return { key: k.key, id: created.json.credential.id as string };
  }

  it("refuses at task creation (400) a target outside the hosts; accepts exact and one-level wildcard matches", async () => {
    const { key, id } = await boundCredential(["api.openai.com", "*.example.com"]);
    const task = (targetUrl: string) => call("POST", "/v1/tasks", { key, body: { targetUrl, method: "GET", headers: { authorization: `Bearer ${id}` }, delay: 3600 } });
    for (const ok of ["https://api.openai.com/v1/models", "https://eu.example.com/x"]) expect((await task(ok)).status, ok).toBe(201);
    for (const bad of ["https://evil.test.com/", "https://example.com/", "https://a.b.example.com/", "https://api.openai.com.evil.com/"]) {
      const res = await task(bad);
      expect([res.status, res.json.code, res.json.tokenIds], bad).toEqual([400, "credential_host_not_allowed", [id]]);
      expect(res.text).not.toContain(CANARY);
    }
    // Unset means unrestricted (seed 000).
    await call("PATCH", "/v1/credentials/bound", { key, body: { allowedHosts: null } });
    expect((await task("https://evil.test.com/")).status).toBe(201);
  });

  it("follows no redirect hop off the hosts: the task fails closed and the other host receives nothing", async () => {
    const { key, id } = await boundCredential(["127.0.0.1"]);
    const up = upstreamNamespace();
    const offHost = up.url("ok").replace("127.0.0.1", "localhost");
    const direct = await call("POST", "/v1/tasks", { key, body: { targetUrl: up.url("echo"), method: "GET", headers: { authorization: `Bearer ${id}` } } });
    const redirected = await call("POST", "/v1/tasks", {
      key,
      body: { targetUrl: up.url(`redirect?to=${encodeURIComponent(offHost)}&code=302`), method: "GET", headers: { authorization: `Bearer ${id}` } },
    });
    expect((await awaitTask(key, direct.json.task.id)).status).toBe("completed");
    const failed = await awaitTask(key, redirected.json.task.id);
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/allowed hosts/);
    const records = await up.records();
    expect(records.find((r) => r.path === "/echo")?.headers.authorization).toBe(`Bearer ${CANARY}`);
    expect(records.find((r) => r.path === "/ok")).toBeUndefined();
  });

  it("callOut checks the target itself before any request (execution-time check)", async () => {
    const outcome = await callOut({ method: "GET", url: "https://not-allowed.example.org/", headers: {}, credentialHeaders: [], timeoutMs: 1000, allowLoopback: true, credentialsAllowedAt: () => false });
    expect(outcome.kind).toBe("blocked");
  });
});
