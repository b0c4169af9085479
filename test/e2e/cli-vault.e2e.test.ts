/**
 * Issue 14, seed 003's commands: `token-vault vault credential|service|agent-token|logs`,
 * spawned as a user runs them against the local server. The values are a canary, searched for
 * at the end in every stdout, stderr and file of the CLI except the runs that asked for them.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cli, leaks, runs, tempDir, userEnv } from "./cli-run";
import { baseUrl, canary, request } from "./helpers";

const SECRET = canary();
const stamp = `${process.pid}-${Date.now()}`;
const email = `cli-vault-${stamp}@example.com`;
let slug = "";
let person: Record<string, string | undefined> = {};

beforeAll(async () => {
  const signup = await request("POST", "/auth/signup", { body: { email, password: "a long passphrase", teamName: "CLI vault e2e" } });
  expect(signup.status).toBe(201);
  person = userEnv();
  expect(cli(["login", "--url", baseUrl(), "--email", email], { env: person, input: "a long passphrase\n" }).status).toBe(0);
  const vaults = cli(["vault", "list", "--json"], { env: person }).json.vaults;
  expect(vaults.length).toBe(1);
  slug = vaults[0].slug;
  expect(slug).toMatch(/^[a-z0-9-]{3,64}$/);
});

const keysOf = (run: { json: { credentials: { key: string }[] } }) => run.json.credentials.map((c) => c.key).sort();

describe("token-vault vault credential (seed 003)", () => {
  it("set KEY=VALUE KEY2=- --vault SLUG sets several at once; list hides values; --reveal and get show them", () => {
    const set = cli(["vault", "credential", "set", `STRIPE_KEY=${SECRET}`, "GITHUB_TOKEN=-", "--vault", slug], { env: person, input: `${SECRET}-gh\n` });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toBe(`Set GITHUB_TOKEN, STRIPE_KEY in ${slug}.\n`);
    const list = cli(["vault", "credential", "list", "--json"], { env: person });
    expect(keysOf(list)).toEqual(["GITHUB_TOKEN", "STRIPE_KEY"]);
    expect(list.json.credentials.every((c: { value?: string }) => c.value === undefined)).toBe(true);
    expect(cli(["vault", "creds", "list"], { env: person }).stdout).toMatch(/^KEY\s+TYPE\s+ID\s+UPDATED\n/);
    const revealed = cli(["vault", "credential", "list", "--reveal", "--json"], { env: person, revealed: true });
    expect(Object.fromEntries(revealed.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value]))).toEqual({ STRIPE_KEY: SECRET, GITHUB_TOKEN: `${SECRET}-gh` });
    const get = cli(["vault", "credential", "get", "GITHUB_TOKEN"], { env: person, revealed: true });
    expect(get.stdout).toBe(`${SECRET}-gh\n`);
    expect(get.stderr).toBe("");
  });

  it("is atomic: one refused value sets none of the KEYs", () => {
    // A value a header cannot carry (a line break) is refused by the server for the whole batch.
    const refused = cli(["vault", "credential", "set", `NEW_ONE=${SECRET}`, "BROKEN=-"], { env: person, input: `${SECRET}\nsecond line` });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/\(validation_failed, HTTP 400\)/);
    expect(keysOf(cli(["vault", "credential", "list", "--json"], { env: person }))).toEqual(["GITHUB_TOKEN", "STRIPE_KEY"]);
    // A KEY that is not UPPER_SNAKE_CASE is a usage error: nothing is sent.
    const lower = cli(["vault", "credential", "set", `GOOD=${SECRET}`, `bad=${SECRET}`], { env: person });
    expect(lower.status).toBe(2);
    expect(lower.stderr).toMatch(/argument 2: the key before '=' must match/);
    expect(keysOf(cli(["vault", "credential", "list", "--json"], { env: person }))).toEqual(["GITHUB_TOKEN", "STRIPE_KEY"]);
  });
});

describe("token-vault vault service", () => {
  it("add (flags and -f), list, disable, enable, remove; a KEY that does not exist is caught at once", () => {
    const add = cli(["vault", "service", "add", "stripe", "--host", "api.stripe.com", "--bearer", "STRIPE_KEY", "--json"], { env: person });
    expect(add.status, add.stderr).toBe(0);
    expect(add.json.services[0]).toMatchObject({ name: "stripe", host: "api.stripe.com", enabled: true, auth: { type: "bearer", token: "STRIPE_KEY" } });
    const file = join(tempDir("svc"), "service.json");
    writeFileSync(file, JSON.stringify({ name: "github", host: "*.github.com", auth: { type: "api-key", key: "GITHUB_TOKEN", header: "Authorization", prefix: "token " } }));
    expect(cli(["vault", "service", "add", "-f", file], { env: person }).status).toBe(0);
    expect(cli(["vault", "service", "add", "slack", "--host", "slack.com/api/*", "--custom", "Authorization: Bearer {{ STRIPE_KEY }}"], { env: person }).status).toBe(0);

    const missing = cli(["vault", "service", "add", "openai", "--host", "api.openai.com", "--bearer", "OPENAI_KEY"], { env: person });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\(credential_not_found, HTTP 400\)/);
    expect(cli(["vault", "service", "add", "two", "--host", "x.example.com", "--bearer", "A", "--passthrough"], { env: person }).status).toBe(2);

    expect(cli(["vault", "service", "disable", "stripe"], { env: person }).stdout).toBe("Disabled service stripe.\n");
    const listed = cli(["vault", "service", "list", "--json"], { env: person }).json.services;
    expect(listed.map((s: { name: string; enabled: boolean }) => [s.name, s.enabled])).toEqual([
      ["stripe", false],
      ["github", true],
      ["slack", true],
    ]);
    expect(cli(["vault", "service", "enable", "stripe"], { env: person }).status).toBe(0);
    expect(cli(["vault", "service", "list"], { env: person }).stdout).toMatch(/stripe\s+api\.stripe\.com\s+yes\s+bearer STRIPE_KEY/);
    expect(cli(["vault", "service", "remove", "slack"], { env: person }).stdout).toBe("Removed service slack.\n");
    expect(cli(["vault", "service", "enable", "slack"], { env: person }).status).toBe(2);
  });
});

describe("token-vault vault agent-token and logs", () => {
  it("mints a short-lived agent key that can list KEYs but never read a value", () => {
    const minted = cli(["vault", "agent-token", "--ttl", "1h", "--name", "claude"], { env: person });
    expect(minted.status, minted.stderr).toBe(0);
    const key = minted.stdout.trim();
    expect(key).toMatch(/^tvk_/);
    expect(minted.stderr).toMatch(/expires \S+: it is not shown again/);
    const agent = userEnv({ TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: key });
    expect(cli(["whoami", "--json"], { env: agent }).json.vault).toBe(`${slug} (your only vault)`);
    expect(keysOf(cli(["vault", "credential", "list", "--json"], { env: agent }))).toEqual(["GITHUB_TOKEN", "STRIPE_KEY"]);
    for (const args of [
      ["vault", "credential", "get", "STRIPE_KEY"],
      ["vault", "credential", "list", "--reveal"],
    ]) {
      const refused = cli(args, { env: agent });
      expect(refused.status, args.join(" ")).toBe(1);
      expect(refused.stderr).toMatch(/HTTP 403/);
    }
    expect(cli(["vault", "agent-token", "--ttl", "1m"], { env: person }).status).toBe(1);
  });

  it("logs: the proxy's request log as a table or JSON", () => {
    const logs = cli(["vault", "logs", "--json"], { env: person });
    expect(logs.status, logs.stderr).toBe(0);
    expect(Array.isArray(logs.json.entries)).toBe(true);
    expect(logs.json.pagination).toMatchObject({ limit: 50 });
    expect(cli(["vault", "logs", "--status", "abc"], { env: person }).status).toBe(2);
  });

  it("delete removes several KEYs", () => {
    expect(cli(["vault", "service", "remove", "stripe"], { env: person }).status).toBe(0);
    expect(cli(["vault", "service", "remove", "github"], { env: person }).status).toBe(0);
    expect(cli(["vault", "credential", "delete", "STRIPE_KEY", "GITHUB_TOKEN"], { env: person }).stdout).toBe(`Deleted STRIPE_KEY, GITHUB_TOKEN from ${slug}.\n`);
    expect(cli(["vault", "credential", "list", "--json"], { env: person }).json.credentials).toEqual([]);
  });
});

describe("token-vault vault: the canary", () => {
  it("appears in no stdout, stderr or file except where a value was asked for", () => {
    expect(runs.filter((r) => r.revealed && r.stdout.includes(SECRET)).length).toBe(2);
    expect(leaks(SECRET)).toEqual([]);
  });
});
