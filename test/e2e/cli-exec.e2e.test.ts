/**
 * Issue 14: `token-vault run --vault V -- <command>`. The child is a real `node -e` that calls a
 * local upstream through the vault with the variables `run` gave it, as an unmodified SDK does
 * (base URL + the agent token as its API key). The credential's value (a canary) must reach the
 * upstream and nothing else: not the child's environment, not its output, not the CLI's.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cli, leaks, userEnv } from "./cli-run";
import { baseUrl, canary, namespace, request, upstreamRecords, upstreamUrl } from "./helpers";

const SECRET = canary();
const stamp = `${process.pid}-${Date.now()}`;
const email = `cli-exec-${stamp}@example.com`;
let person: Record<string, string | undefined> = {};
let slug = "";
let teamId = "";
let userKey = "";

/** The child: prints its environment's token-vault variables and what the upstream answered through the base URL. */
const CHILD = `
const id = process.argv[1];
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(TOKEN_VAULT_|OPENAI_|ANTHROPIC_)/.test(k)));
fetch(process.env.TOKEN_VAULT_SERVICE_UP_URL + "/ns/" + id + "/ok", { headers: { authorization: "Bearer " + process.env.TOKEN_VAULT_TOKEN } })
  .then(async (res) => { console.log(JSON.stringify({ status: res.status, body: await res.json(), env, all: JSON.stringify(process.env) })); })
  .catch((error) => { console.error(String(error)); process.exit(3); });
`;

beforeAll(async () => {
  const signup = await request("POST", "/auth/signup", { body: { email, password: "a long passphrase", teamName: "CLI run e2e" } });
  expect(signup.status).toBe(201);
  teamId = signup.json.team.id;
  person = userEnv();
  expect(cli(["login", "--url", baseUrl(), "--email", email], { env: person, input: "a long passphrase\n" }).status).toBe(0);
  slug = cli(["vault", "list", "--json"], { env: person }).json.vaults[0].slug;
  const set = cli(["vault", "credential", "set", "UPSTREAM_TOKEN=-", "OPENAI_KEY=sk-not-used"], { env: person, input: SECRET });
  expect(set.status, set.stderr).toBe(0);
  // The e2e server runs with the loopback switch: a service may point at the local upstream.
  expect(cli(["vault", "service", "add", "up", "--host", new URL(upstreamUrl()).host, "--bearer", "UPSTREAM_TOKEN"], { env: person }).status).toBe(0);
  expect(cli(["vault", "service", "add", "openai", "--host", "api.openai.com", "--bearer", "OPENAI_KEY"], { env: person }).status).toBe(0);
  const key = cli(["key", "create", "--name", "cli run e2e", "--json"], { env: person });
  expect(key.status, key.stderr).toBe(0);
  userKey = key.json.key;
});

describe("token-vault run", () => {
  it("runs the command with a fresh agent token and the base URLs; its fetch through the vault succeeds", async () => {
    const id = namespace("cli-run");
    const run = cli(["run", "--vault", slug, "--", "node", "-e", CHILD, id], { env: person });
    expect(run.status, run.stderr).toBe(0);
    const child = JSON.parse(run.stdout);
    expect([child.status, child.body]).toEqual([200, { ok: true }]);
    const token = child.env.TOKEN_VAULT_TOKEN as string;
    expect(token).toMatch(/^tvk_/);
    expect(child.env).toMatchObject({
      TOKEN_VAULT_URL: baseUrl(),
      TOKEN_VAULT_VAULT: slug,
      TOKEN_VAULT_PROXY_URL: `${baseUrl()}/proxy`,
      TOKEN_VAULT_SERVICE_UP_URL: `${baseUrl()}/s/up`,
      TOKEN_VAULT_SERVICE_OPENAI_URL: `${baseUrl()}/s/openai`,
      // The known provider: an unmodified OpenAI SDK reads these two.
      OPENAI_BASE_URL: `${baseUrl()}/s/openai/v1`,
      OPENAI_API_KEY: token,
    });
    expect(child.env.ANTHROPIC_BASE_URL).toBeUndefined();
    expect(run.stderr).toMatch(/^Running node with an agent token for \S+ \(expires \S+\); OPENAI_BASE_URL -> openai\.$/m);
    // The upstream got the real credential; the child never saw it.
    const [seen] = await upstreamRecords(id);
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify(seen?.headers)).not.toContain(token);
    expect(child.all).not.toContain(SECRET);
    // The token is an agent's: it can list KEYs but never read a value.
    const agent = userEnv({ TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: token });
    const get = cli(["vault", "credential", "get", "UPSTREAM_TOKEN"], { env: agent });
    expect([get.status, get.stderr]).toEqual([1, expect.stringMatching(/access_denied, HTTP 403/)]);
    const minted = await request("GET", `/v1/vaults/${teamId}`, { key: token });
    expect(minted.status).toBe(200);
  });

  it("in agent mode hands the child a new agent token, never the caller's API key", () => {
    expect(userKey).toMatch(/^tvk_/);
    const env = userEnv({ TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: userKey });
    const run = cli(["run", "--ttl", "5m", "--json", "--", "node", "-e", "console.log(JSON.stringify(process.env))"], { env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.json.TOKEN_VAULT_TOKEN).toMatch(/^tvk_/);
    expect(run.json.TOKEN_VAULT_TOKEN).not.toBe(userKey);
    expect(run.stdout).not.toContain(userKey);
  });

  it("exits with the child's code; a command that cannot start is 127; no command is a usage error", () => {
    expect(cli(["run", "--", "node", "-e", "process.exit(7)"], { env: person }).status).toBe(7);
    const missing = cli(["run", "--", "no-such-command-token-vault"], { env: person });
    expect([missing.status, missing.stderr]).toEqual([127, expect.stringContaining("error: cannot run no-such-command-token-vault: command not found")]);
    expect(cli(["run"], { env: person }).status).toBe(2);
    expect(cli(["run", "--ttl", "1m", "--", "node", "-e", "0"], { env: person }).status).toBe(1);
    const help = cli(["run", "--help"], { env: person });
    expect(help.stdout).toMatch(/Examples:\n {2}\$ token-vault run --vault my-vault -- python agent\.py/);
    expect(help.stdout).toContain("api.openai.com: OPENAI_BASE_URL, OPENAI_API_KEY");
  });

  it("leaks the credential nowhere: no stdout, stderr or file of the CLI or its child", () => {
    expect(leaks(SECRET)).toEqual([]);
  });
});
