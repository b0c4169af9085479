/**
 * Issue 16: a failed outbound call says why in the task's `error` (connection refused, DNS
 * failure, TLS failure), never workerd's "internal error; reference = ...". Tasks run by the
 * real local server against a closed local port, a name that never resolves (.invalid, RFC
 * 6761) and a plain-HTTP port spoken to over https.
 */
import { describe, expect, it } from "vitest";
import { createTask, createTeam, ns, namespace, waitForTask } from "./helpers";
import { freePort } from "./free-port";


async function failedError(key: string, targetUrl: string): Promise<string> {
  const task = await createTask(key, { targetUrl, maxRetries: 0 });
  const done = await waitForTask(key, task.id);
  expect(done.status).toBe("failed");
  expect(done.error).not.toMatch(/internal error|reference =/);
  return done.error as string;
}

describe("a failed outbound call says why", () => {
  it("names a refused connection, a DNS failure and a TLS failure", async () => {
    const { key } = await createTeam("pro");
    const port = await freePort();
    expect(await failedError(key, `http://127.0.0.1:${port}/x`)).toBe(
      `Network error: connection refused or reset by 127.0.0.1:${port} (nothing listening on that port, or the connection was dropped)`,
    );
    expect(await failedError(key, "http://nonexistent.invalid/x")).toBe("Network error: DNS lookup failed: nonexistent.invalid does not resolve");
    const plain = new URL(ns(namespace("tls")));
    expect(await failedError(key, `https://${plain.host}/ok`)).toBe(
      `Network error: TLS handshake with ${plain.host} failed (invalid or self-signed certificate, or the port does not speak TLS)`,
    );
  });
});
