/**
 * Issue 14: a person signed in with `token-vault login` runs the commands of the API-key routes
 * (tokens, tasks, credentials, leases, audit) without making an API key: the CLI mints a
 * short-lived CLI key per invocation (POST /v1/vaults/:vault/cli-keys), in memory only. The
 * values are a canary, searched for in every stdout, stderr and file except the reveals; the
 * config dir never holds a key.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, leaks, userEnv, walk } from "./cli-run";
import { baseUrl, canary, namespace, ns, request, upstreamRecords } from "./helpers";

const SECRET = canary();
const stamp = `${process.pid}-${Date.now()}`;
const ownerEmail = `cli-session-owner-${stamp}@example.com`;
const memberEmail = `cli-session-member-${stamp}@example.com`;
let owner: Record<string, string | undefined> = {};
let member: Record<string, string | undefined> = {};
let teamId = "";

async function retried<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    // A keep-alive connection the server closed while a spawnSync blocked this process.
    return fn();
  }
}

beforeAll(async () => {
  // Accounts first, before any spawnSync blocks this process.
  const signup = await request("POST", "/auth/signup", { body: { email: ownerEmail, password: "a long passphrase", teamName: "CLI session e2e" } });
  expect(signup.status).toBe(201);
  teamId = signup.json.team.id;
  const joined = await request("POST", "/auth/signup", { body: { email: memberEmail, password: "a long passphrase", teamName: "CLI session member's own" } });
  expect(joined.status).toBe(201);
  const added = await request("POST", `/teams/${teamId}/members`, { key: signup.json.token, body: { email: memberEmail, role: "member" } });
  expect(added.status, added.text).toBeLessThan(300);
  owner = userEnv();
  member = userEnv({ TOKEN_VAULT_VAULT: teamId });
  expect(cli(["login", "--url", baseUrl(), "--email", ownerEmail], { env: owner, input: "a long passphrase\n" }).status).toBe(0);
  expect(cli(["login", "--url", baseUrl(), "--email", memberEmail], { env: member, input: "a long passphrase\n" }).status).toBe(0);
});

describe("signed in as a person, the API-key commands work", () => {
  it("token create (stdin) | list | revoke", () => {
    const created = cli(["token", "create", "--name", "session token", "--value", "-", "--json"], { env: owner, input: SECRET });
    expect(created.status, created.stderr).toBe(0);
    const id = created.json.token.id;
    expect(cli(["token", "list", "--json"], { env: owner }).json.tokens.map((t: { id: string }) => t.id)).toContain(id);
    expect(cli(["token", "revoke", id], { env: owner }).stdout).toBe(`Revoked ${id} (session token).\n`);
  });

  it("secret set | get | list | delete (the person's own, as before)", () => {
    expect(cli(["secret", "set", "mine=-"], { env: owner, input: SECRET }).status).toBe(0);
    expect(cli(["secret", "get", "mine"], { env: owner, revealed: true }).stdout).toBe(`${SECRET}\n`);
    expect(cli(["secret", "list", "--json"], { env: owner }).json.secrets.map((s: { name: string }) => s.name)).toEqual(["mine"]);
    expect(cli(["secret", "delete", "mine"], { env: owner }).stdout).toBe("Deleted mine.\n");
  });

  it("credential create | rotate | list and lease list; a CLI key never reveals, so lease create|renew|revoke need an API key", () => {
    const created = cli(["credential", "create", "svc-key", "--value", "-", "--metadata", "service=svc", "--json"], { env: owner, input: SECRET });
    expect(created.status, created.stderr).toBe(0);
    expect(created.json.credential).toMatchObject({ name: "svc-key", currentVersion: 1 });
    expect(cli(["credential", "rotate", "svc-key", "--value", "-", "--json"], { env: owner, input: `${SECRET}-v2` }).json.credential.currentVersion).toBe(2);
    expect(cli(["credential", "list", "--json"], { env: owner }).json.credentials.map((c: { name: string }) => c.name)).toEqual(["svc-key"]);
    const leases = cli(["lease", "list", "--json"], { env: owner });
    expect([leases.status, leases.json?.leases]).toEqual([0, []]);
    // Leases hand out the value (secrets:reveal): the CLI key never carries it.
    for (const args of [
      ["lease", "create", "svc-key", "--identity", "agent:ci"],
      ["lease", "create", "svc-key", "--identity", "agent:ci", "--reveal"],
      ["lease", "revoke", `lease_${"0".repeat(26)}`],
    ]) {
      const refused = cli(args, { env: owner });
      expect([refused.status, refused.stderr], args.join(" ")).toEqual([1, expect.stringMatching(/\(insufficient_scope, HTTP 403\)/)]);
      expect(refused.stderr).toContain("use an API key (TOKEN_VAULT_TOKEN)");
    }
  });

  it("task create --wait | get | list | cancel; audit shows the CLI keys minted for the person", async () => {
    const id = namespace("cli-session");
    const done = cli(["task", "create", "--url", `${ns(id)}/ok`, "--body", "-", "--wait", "--json"], { env: owner, input: '{"hi":1}' });
    expect(done.status, done.stderr).toBe(0);
    expect(done.json.task).toMatchObject({ status: "completed", result: { statusCode: 200 } });
    const [received] = await retried(() => upstreamRecords(id));
    expect(received?.body).toBe('{"hi":1}');
    expect(cli(["task", "get", done.json.task.id], { env: owner }).stdout).toMatch(/status\s+completed/);
    expect(cli(["task", "list", "--json"], { env: owner }).json.tasks.map((t: { id: string }) => t.id)).toContain(done.json.task.id);
    const delayed = cli(["task", "create", "--url", `${ns(id)}/ok`, "--delay", "600", "--json"], { env: owner });
    expect(cli(["task", "cancel", delayed.json.task.id], { env: owner }).stdout).toBe(`${delayed.json.task.id} cancelled\n`);

    const audit = cli(["audit", "--action", "cli_key.created", "--json"], { env: owner });
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.json.entries.length).toBeGreaterThanOrEqual(10);
    expect(audit.json.entries[0]).toMatchObject({ action: "cli_key.created", actor: { type: "user" } });
    expect(cli(["audit", "--limit", "3"], { env: owner }).stdout).toMatch(/^TIME\s+ACTION\s+ACTOR\s+TARGET/);
  });

  it("a member reads with their CLI key but cannot write", () => {
    const list = cli(["token", "list", "--json"], { env: member });
    expect(list.status, list.stderr).toBe(0);
    expect(cli(["audit", "--json"], { env: member }).status).toBe(0);
    const write = cli(["token", "create", "--name", "nope", "--value", "-"], { env: member, input: SECRET });
    expect([write.status, write.stderr]).toEqual([1, expect.stringMatching(/\(insufficient_scope, HTTP 403\)/)]);
  });

  it("keeps the CLI keys in memory only: the config dirs hold the session and no key; no canary anywhere", () => {
    for (const env of [owner, member]) {
      const files = walk(env.TOKEN_VAULT_CONFIG_DIR ?? "");
      expect(files.map((f) => f.split("/").pop())).toEqual(["session.json"]);
      for (const file of files) expect(readFileSync(file, "utf8")).not.toContain("tvk_");
    }
    expect(leaks(SECRET)).toEqual([]);
    expect(leaks("tvk_")).toEqual([]);
  });
});
