import { request as httpRequest } from "node:http";
import { describe, expect, it } from "vitest";
import { baseUrl, createTeam, request } from "./helpers";

/** Sends a chunked body (no Content-Length) of `bytes`, as a streaming client would. */
function chunkedPost(path: string, key: string, bytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl()}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "transfer-encoding": "chunked" },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    const chunk = "x".repeat(16 * 1024);
    for (let sent = 0; sent < bytes; sent += chunk.length) req.write(chunk);
    req.end();
  });
}

describe("oversized bodies over real HTTP", () => {
  it("answer 413 to a chunked upload past the limit without disturbing the next request", async () => {
    const team = await createTeam("pro");
    const big = await chunkedPost("/v1/tokens", team.key, 530 * 1024);
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: expect.stringContaining("too large"), limitBytes: 512 * 1024 });
    const next = await request("POST", "/v1/tokens", { key: team.key, body: { name: "after", value: "v" } });
    expect(next.status).toBe(201);
  });
});
