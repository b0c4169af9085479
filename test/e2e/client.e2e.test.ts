/**
 * The typed client from Node, imported by its package name (the build `npm ci` runs), against
 * the real local server: what a user's Node program does.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Vault, VaultError, type FetchLike, type IssuedLease, type Token } from "token-vault/client";
import { baseUrl, canary, createTeam, logLinesWith, namespace, ns, request, upstreamRecords } from "./helpers";

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

/** A signed-up owner's key with secrets:reveal (leases need it; default keys do not carry it). */
async function revealKey(): Promise<string> {
  const signup = await request("POST", "/auth/signup", {
    body: { email: `client-store-${randomUUID()}@example.com`, password: "correct-horse-battery-staple", teamName: "client store" },
    headers: { "cf-connecting-ip": `203.0.113.${Math.floor(Math.random() * 250)}` },
  });
  expect(signup.status).toBe(201);
  const owner = new Vault({ baseUrl: baseUrl(), sessionToken: signup.json.token as string });
  return (await owner.keys.create(signup.json.team.id as string, { name: "agent", scopes: ["secrets:read", "secrets:write", "secrets:reveal"] })).key;
}

describe("token-vault/client: credentials and leases (seed 004)", () => {
  it("create, lease, rotate as the seed writes them; each value only in its lease answer, never in a log line", async () => {
    const key = await revealKey();

    const answers: { what: string; text: string }[] = [];
    const recording: FetchLike = async (url, init) => {
      const response = await fetch(url, init);
      answers.push({ what: `${init.method} ${new URL(url).pathname}`, text: [...response.headers].join("\n") + (await response.clone().text()) });
      return response;
    };
    const vault = new Vault({ baseUrl: baseUrl(), apiKey: key, fetch: recording });
    const first = `sk-proj-${canary()}`;
    const second = `sk-proj-${canary()}`;

    await vault.credentials.create({
      name: "openai-api-key-prod",
      type: "api-key",
      value: first,
      metadata: { service: "openai", environment: "production", prefix: "sk-proj-", team: "ml-platform" },
      policy: { defaultLeaseTTL: "30m", maxLeaseTTL: "4h", maxLeases: 5 },
    });
    const lease: IssuedLease = await vault.leases.create({
      credentialName: "openai-api-key-prod",
      ttl: "30m",
      identity: { type: "agent", name: "claude-code" },
    });
    expect(lease.value).toBe(first);
    expect(lease.ttlSeconds).toBe(1800);
    await vault.credentials.rotate({ name: "openai-api-key-prod", newValue: second });
    const next = await vault.leases.create({ credentialName: "openai-api-key-prod", identity: { type: "agent", name: "claude-code" } });
    expect([next.version, next.value]).toEqual([2, second]);
    expect((await vault.leases.list({ identity: "agent:claude-code", active: true })).map((l) => [l.id, l.version])).toEqual([
      [next.id, 2],
      [lease.id, 1],
    ]);
    expect((await vault.credentials.list({ service: "openai" })).map((c) => c.currentVersion)).toEqual([2]);
    await vault.leases.revoke(lease.id);

    expect(answers).toHaveLength(7);
    expect(answers.filter((a) => a.text.includes(first)).map((a) => a.what)).toEqual(["POST /v1/leases"]);
    expect(answers.filter((a) => a.text.includes(second)).map((a) => a.what)).toEqual(["POST /v1/leases"]);
    expect(answers.filter((a) => a.text.includes(second))[0]).not.toBe(answers.filter((a) => a.text.includes(first))[0]);
    expect(logLinesWith(first)).toEqual([]);
    expect(logLinesWith(second)).toEqual([]);
  });
});

describe("the README's store example", () => {
  it("runs as written with node, twice (it deletes what it creates), printing what its comments say", async () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    const example = blocks.filter((b) => b.includes("vault.leases.create"));
    expect(example).toHaveLength(1);
    // Inside the package (dist/ is git-ignored), so "token-vault/client" resolves by name as for the reader.
    const file = new URL(`../../dist/readme-store-example-${randomUUID()}.mjs`, import.meta.url);
    writeFileSync(file, example[0] ?? "");
    try {
      const key = await revealKey();
      const run = () => promisify(execFile)(process.execPath, [file.pathname], { env: { ...process.env, BASE: baseUrl(), KEY: key }, timeout: 30_000 });
      for (let i = 0; i < 2; i++) {
        const { stdout } = await run();
        expect(stdout.trim().split("\n")).toEqual(["sk-proj-abc123 1800", "2 sk-proj-newkey456", "2,1", "409 name_taken", "sk-abc123"]);
      }
    } finally {
      rmSync(file, { force: true });
    }
  });
});
