/**
 * The typed client from Node, imported by its package name (the build `npm ci` runs), against
 * the real local server: what a user's Node program does.
 */
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike, type Token } from "token-vault/client";
import { baseUrl, canary, createTeam, logLinesWith, namespace, ns, upstreamRecords } from "./helpers";

async function caught(promise: Promise<unknown>): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  return error as VaultError;
}

describe("token-vault/client against the local server", () => {
  it("creates, lists and revokes a token; the value appears in no answer or log", async () => {
    const { key } = await createTeam();
    // Every answer the client reads, to search for the value.
    const answers: string[] = [];
    const recording: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      answers.push([...response.headers].join("\n") + (await response.clone().text()));
      return response;
    };
    const vault = new Vault({ baseUrl: baseUrl(), apiKey: key, fetch: recording });
    const secret = canary();
    const token: Token = await vault.tokens.create({ name: "openai", value: secret });
    expect(token.id).toMatch(/^tok_/);
    expect((await vault.tokens.list()).tokens.map((t) => t.id)).toEqual([token.id]);
    expect(await vault.tokens.get(token.id)).toEqual(token);
    expect((await vault.tokens.revoke(token.id)).revokedAt).toEqual(expect.any(String));
    expect((await vault.tokens.list()).tokens).toEqual([]);
    expect(answers).toHaveLength(5);
    expect(answers.filter((answer) => answer.includes(secret))).toEqual([]);
    expect(logLinesWith(secret)).toEqual([]);
  });

  it("runs a task and waits for it; the token is resolved upstream", async () => {
    const { key } = await createTeam();
    const vault = new Vault({ baseUrl: baseUrl(), apiKey: key });
    const secret = canary();
    const token = await vault.tokens.create({ name: "upstream", value: secret });
    const id = namespace("client");
    const task = await vault.tasks.create({ targetUrl: `${ns(id)}/ok`, method: "POST", headers: { Authorization: `Bearer ${token.id}` }, body: "{}" });
    const done = await vault.tasks.wait(task.id, { timeoutMs: 45_000 });
    expect(done).toMatchObject({ id: task.id, status: "completed", result: { statusCode: 200 } });
    const records = await upstreamRecords(id);
    expect(records.map((r) => r.headers.authorization)).toEqual([`Bearer ${secret}`]);
  });

  it("throws VaultError with status, code, message and request id", async () => {
    const { key } = await createTeam();
    const invalid = await caught(new Vault({ baseUrl: baseUrl(), apiKey: "tvk_invalid" }).tokens.list());
    expect(invalid).toMatchObject({ status: 401, code: "invalid_api_key", message: "Invalid or revoked API key" });
    expect(invalid.requestId).toMatch(/^req_/);

    const vault = new Vault({ baseUrl: baseUrl(), apiKey: key });
    expect(await caught(vault.tokens.get("tok_00000000000000000000000000"))).toMatchObject({ status: 404, code: "not_found" });
    expect(await caught(vault.tasks.get("task_00000000000000000000000000"))).toMatchObject({ status: 404, code: "not_found" });

    const invalidBody = await caught(vault.tasks.create({ targetUrl: "" }));
    expect(invalidBody).toMatchObject({ status: 400, code: "validation_failed" });
    expect(invalidBody.issues).toEqual([expect.objectContaining({ path: "body.targetUrl" })]);
  });

  it("a server that is not there is network_error", async () => {
    const error = await caught(new Vault({ baseUrl: "http://127.0.0.1:1", apiKey: "tvk_x" }).tokens.list());
    expect(error).toMatchObject({ status: 0, code: "network_error" });
  });

  it("iterates every page of a list", async () => {
    const { key } = await createTeam();
    const vault = new Vault({ baseUrl: baseUrl(), apiKey: key });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await vault.tokens.create({ name: `page ${i}`, value: `value-${i}` })).id);
    const seen: string[] = [];
    for await (const token of vault.tokens.iterate({ limit: 3 })) seen.push(token.id);
    expect(seen).toEqual(ids.reverse());
    const actions: string[] = [];
    for await (const entry of vault.audit.iterate({ limit: 4, action: "token.created" })) actions.push(entry.target.id);
    expect(actions).toEqual(seen);
  });
});
