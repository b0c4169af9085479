/**
 * Issue 14 with issue 12's proposals: `token-vault vault proposal list|show|approve|reject`. An
 * agent (an agent token minted by the CLI) proposes over the API; the signed-in person reviews
 * and approves with the value typed (stdin here; hidden on a terminal) or given as KEY=-; the
 * agent's next proxied call then works. The values are a canary, searched for everywhere.
 */
import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, leaks, runs, userEnv } from "./cli-run";
import { baseUrl, canary, namespace, request, upstreamRecords, upstreamUrl } from "./helpers";

const SECRET = canary();
const stamp = `${process.pid}-${Date.now()}`;
const email = `cli-proposals-${stamp}@example.com`;
let person: Record<string, string | undefined> = {};
let agentKey = "";
let slug = "";
const upstreamHost = () => new URL(upstreamUrl()).host;

async function retried<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    // A keep-alive connection the server closed while a spawnSync blocked this process.
    return fn();
  }
}

const propose = (body: Record<string, unknown>) => retried(() => request("POST", "/v1/proposals", { key: agentKey, body }));

beforeAll(async () => {
  const signup = await request("POST", "/auth/signup", { body: { email, password: "a long passphrase", teamName: "CLI proposals e2e" } });
  expect(signup.status).toBe(201);
  person = userEnv();
  expect(cli(["login", "--url", baseUrl(), "--email", email], { env: person, input: "a long passphrase\n" }).status).toBe(0);
  slug = cli(["vault", "list", "--json"], { env: person }).json.vaults[0].slug;
  expect(cli(["vault", "credential", "set", "EXISTING_KEY=-"], { env: person, input: `${SECRET}-existing` }).status).toBe(0);
  expect(cli(["vault", "service", "add", "existing", "--host", "api.example.com", "--bearer", "EXISTING_KEY"], { env: person }).status).toBe(0);
  agentKey = cli(["vault", "agent-token", "--ttl", "1h"], { env: person }).stdout.trim();
  expect(agentKey).toMatch(/^tvk_/);
});

describe("token-vault vault proposal", () => {
  it("list | show | approve (the value typed at the prompt): the agent's next proxied call works", async () => {
    const proposed = await propose({
      message: "I need the upstream API",
      services: [{ name: "up", host: upstreamHost(), auth: { type: "bearer", token: "UP_TOKEN" } }],
      credentials: [{ action: "set", key: "UP_TOKEN", description: "the upstream's key", obtain: "https://example.com/keys" }],
    });
    expect(proposed.status, proposed.text).toBe(201);
    const id = proposed.json.proposal.id as string;

    const list = cli(["vault", "proposal", "list", "--status", "pending", "--json"], { env: person });
    expect(list.status, list.stderr).toBe(0);
    expect(list.json.proposals.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([[id, "pending"]]);
    expect(cli(["vault", "proposals", "list"], { env: person }).stdout).toMatch(new RegExp(`^ID\\s+STATUS.*\\n${id}\\s+pending\\s+\\S+\\s+UP_TOKEN\\s+up\\s+I need the upstream API$`, "m"));
    const show = cli(["vault", "proposal", "show", id], { env: person });
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/^UP_TOKEN\s+set\s+you give it\s+the upstream's key\s+https:\/\/example\.com\/keys$/m);
    expect(show.stdout).toContain(upstreamHost());
    expect(show.stdout).not.toContain("WARNING");
    expect(cli(["vault", "proposal", "show", id, "--json"], { env: person }).json).toMatchObject({ proposal: { id, status: "pending" }, warnings: [] });

    // An API key never approves: the CLI says a person's session is needed, and sends nothing.
    const asAgent = cli(["vault", "proposal", "approve", id, `UP_TOKEN=${SECRET}`], { env: userEnv({ TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: agentKey }) });
    expect([asAgent.status, asAgent.stderr]).toEqual([2, expect.stringContaining("needs a person's session")]);

    const approved = cli(["vault", "proposal", "approve", id], { env: person, input: `${SECRET}\n` });
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`Approved ${id}: set UP_TOKEN; services up.\n`);
    // Piped, the answers are read line by line without a prompt (on a terminal: see the test below).
    expect(approved.stderr).toBe("");
    expect(cli(["vault", "proposal", "list", "--status", "approved", "--json"], { env: person }).json.proposals.map((p: { id: string }) => p.id)).toEqual([id]);

    const ns = namespace("cli-proposal");
    const proxied = await retried(() => fetch(`${baseUrl()}/s/up/ns/${ns}/ok`, { headers: { authorization: `Bearer ${agentKey}` } }));
    expect(proxied.status).toBe(200);
    await proxied.arrayBuffer();
    const [seen] = await retried(() => upstreamRecords(ns));
    expect(seen?.headers.authorization).toBe(`Bearer ${SECRET}`);

    // Approving twice is the server's 409: nothing asked, nothing changed.
    const twice = cli(["vault", "proposal", "approve", id], { env: person });
    expect([twice.status, twice.stderr]).toEqual([1, expect.stringMatching(/\(proposal_not_pending, HTTP 409\)/)]);
  });

  it("approve takes KEY=VALUE (KEY=- from stdin); a KEY that is no slot is a usage error", async () => {
    const proposed = await propose({ message: "two keys", credentials: [{ action: "set", key: "FIRST_KEY" }, { action: "set", key: "SECOND_KEY" }] });
    expect(proposed.status, proposed.text).toBe(201);
    const id = proposed.json.proposal.id as string;
    const wrong = cli(["vault", "proposal", "approve", id, `OTHER_KEY=${SECRET}`], { env: person });
    expect([wrong.status, wrong.stderr]).toEqual([2, expect.stringContaining(`not a slot of ${id} that takes a value: OTHER_KEY`)]);
    const approved = cli(["vault", "proposal", "approve", id, `FIRST_KEY=${SECRET}-1`, "SECOND_KEY=-", "--json"], { env: person, input: `${SECRET}-2` });
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.json.proposal).toMatchObject({ id, status: "approved" });
    expect(approved.stderr).toBe("");
    const values = cli(["vault", "credential", "list", "--reveal", "--json"], { env: person, revealed: true });
    expect(Object.fromEntries(values.json.credentials.map((c: { key: string; value: string }) => [c.key, c.value]))).toMatchObject({ FIRST_KEY: `${SECRET}-1`, SECOND_KEY: `${SECRET}-2` });
  });

  it("refuses to approve an exfiltration without --yes, shows the warning; reject with a reason", async () => {
    const proposed = await propose({ message: "Mirror the results", services: [{ name: "mirror", host: "collector.example.net", auth: { type: "bearer", token: "EXISTING_KEY" } }] });
    expect(proposed.status, proposed.text).toBe(201);
    const id = proposed.json.proposal.id as string;
    const show = cli(["vault", "proposal", "show", id], { env: person });
    expect(show.stdout).toMatch(/^WARNING: .*EXISTING_KEY.*$/m);
    expect(show.stdout).toContain("collector.example.net");
    const refused = cli(["vault", "proposal", "approve", id], { env: person });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^warning: .*EXISTING_KEY/m);
    expect(refused.stderr).toContain("approve with --yes if you mean it");
    expect(cli(["vault", "proposal", "show", id, "--json"], { env: person }).json.proposal.status).toBe("pending");

    const rejected = cli(["vault", "proposal", "reject", id, "--reason", "not that host"], { env: person });
    expect([rejected.status, rejected.stdout]).toEqual([0, `Rejected ${id}.\n`]);
    const polled = await retried(() => request("GET", `/v1/proposals/${id}`, { key: agentKey }));
    expect([polled.json.proposal.status, polled.json.proposal.reason]).toEqual(["rejected", "not that host"]);
    expect(cli(["vault", "proposal", "list", "--status", "nope"], { env: person }).status).toBe(2);
    expect(cli(["vault", "proposal", "approve", "--help"], { env: person }).stdout).toMatch(/Examples:\n {2}\$ token-vault vault proposal approve prop_01\.\.\. STRIPE_KEY=-/);
  });

  it("on a terminal, approve asks for each value with the slot's hint, and never echoes it", async () => {
    const proposed = await propose({ message: "one key", credentials: [{ action: "set", key: "TYPED_KEY", description: "typed at the prompt" }] });
    expect(proposed.status, proposed.text).toBe(201);
    const id = proposed.json.proposal.id as string;
    const env = Object.fromEntries(Object.entries({ ...person, TERM: "xterm" }).filter((e): e is [string, string] => e[1] !== undefined));
    const child = spawn("script", ["-qec", `${BIN} vault proposal approve ${id}`, "/dev/null"], { env });
    let screen = "";
    let typed = false;
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      if (!typed && screen.includes("Value for TYPED_KEY (typed at the prompt): ")) {
        typed = true;
        child.stdin.write(`${SECRET}-typed\r`);
      }
    });
    const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
    runs.push({ args: ["vault proposal approve (terminal)"], status: code, stdout: screen, stderr: "", json: undefined, revealed: false });
    expect(code, screen).toBe(0);
    expect(screen).toContain(`Approved ${id}: set TYPED_KEY.`);
    const get = cli(["vault", "credential", "get", "TYPED_KEY"], { env: person, revealed: true });
    expect(get.stdout).toBe(`${SECRET}-typed\n`);
  });

  it("leaks no value: no stdout, stderr or file of the CLI except the reveal", () => {
    expect(leaks(SECRET)).toEqual([]);
  });
});
