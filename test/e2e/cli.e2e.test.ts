/**
 * Issue 14: the `token-vault` bin, spawned as a user runs it, against the real local server.
 * One person (signed in with `login`) and one agent (TOKEN_VAULT_URL + TOKEN_VAULT_TOKEN)
 * drive every command; values are one canary, searched for at the end in every stdout, stderr
 * and file the CLI wrote, except the runs that asked for a value (`get`, `--reveal`).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { BIN, cli, leaks, ROOT, runs, tempDir, userEnv } from "./cli-run";
import { freePort } from "./free-port";
import { baseUrl, canary, namespace, ns, request, upstreamRecords } from "./helpers";

const SECRET = canary();
const PASSWORD = `pw-${SECRET}`; // a password is a secret too: it must not show anywhere either
const stamp = `${process.pid}-${Date.now()}`;
const email = `cli-ada-${stamp}@example.com`;
let teamId = "";
/** How the CLI names the person's vault: its slug where teams have one, else its id. */
let teamRef = "";
/** The person's environment: a config dir of its own, no TOKEN_VAULT_*. */
let person: Record<string, string | undefined> = {};
/** The agent's environment: an API key with secrets:reveal. */
let agent: Record<string, string | undefined> = {};
let agentKeyId = "";

const ESC = "\u001b[";

/** An environment for spawn: the unset variables left out. */
function plainEnv(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

let xdgEmail = "";
let bob: { token: string; teamId: string; ref: string } = { token: "", teamId: "", ref: "" };

/**
 * Accounts are made here, before any run: a spawnSync blocks this process, and a keep-alive
 * connection the server closed meanwhile would fail the next fetch ("other side closed").
 */
beforeAll(async () => {
  const signup = await request("POST", "/auth/signup", { body: { email, password: PASSWORD, teamName: "CLI e2e" } });
  expect(signup.status).toBe(201);
  teamId = signup.json.team.id;
  teamRef = signup.json.team.slug ?? teamId;
  person = userEnv();
  // Its own user for the logout test: logout ends every session of the user on the server.
  xdgEmail = `cli-xdg-${stamp}@example.com`;
  expect((await request("POST", "/auth/signup", { body: { email: xdgEmail, password: PASSWORD, teamName: "XDG" } })).status).toBe(201);
  // A second vault for the person: another user's team adds them.
  const other = await request("POST", "/auth/signup", { body: { email: `cli-bob-${stamp}@example.com`, password: "a long passphrase", teamName: "Bob's" } });
  bob = { token: other.json.token, teamId: other.json.team.id, ref: other.json.team.slug ?? other.json.team.id };
});

/** Once more after a failed fetch: see beforeAll. */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch {
    return fn();
  }
}

describe("token-vault: help, usage and exit codes", () => {
  it("has --help with an example on every command, and exits 0", () => {
    const leaves: string[][] = [];
    const walk = (path: string[]) => {
      const help = cli([...path, "--help"]);
      expect(help.status, path.join(" ")).toBe(0);
      const commands = /\nCommands:\n([\s\S]*?)(\n\n|$)/.exec(help.stdout)?.[1] ?? "";
      // "credential|creds [options]": the name without its alias.
      const names = [...commands.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1] ?? "").filter((n) => n !== "help");
      expect(path.length, "command depth").toBeLessThanOrEqual(3);
      if (names.length === 0) leaves.push(path);
      else for (const name of names) walk([...path, name]);
      expect(help.stdout, `${path.join(" ")} --help`).toMatch(/\nExamples?:\n {2}\$ .*token-vault /);
    };
    walk([]);
    const listed = leaves.map((l) => l.join(" "));
    for (const command of [
      "login",
      "logout",
      "whoami",
      "vault list",
      "vault init",
      "token create",
      "token list",
      "token revoke",
      "secret set",
      "secret get",
      "secret list",
      "secret delete",
      "credential create",
      "credential rotate",
      "credential list",
      "lease create",
      "lease renew",
      "lease revoke",
      "lease list",
      "task create",
      "task get",
      "task list",
      "task cancel",
      "audit",
      "key create",
      "key list",
      "key revoke",
    ]) {
      expect(listed).toContain(command);
    }
  });

  it("exits 2 on usage errors, with one message and nothing sent", () => {
    const unknown = cli(["tokn", "list"], { env: person });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'tokn'/);
    expect(cli(["token", "create"], { env: person }).stderr).toMatch(/required option '--name <name>' not specified/);
    expect(cli(["token", "create"], { env: person }).status).toBe(2);
    expect(cli(["token", "list", "--limit", "ten"], { env: person }).status).toBe(2);
    const notSignedIn = cli(["token", "list"], { env: person });
    expect(notSignedIn.status).toBe(2);
    expect(notSignedIn.stderr).toMatch(/not signed in: run `token-vault login/);
    // A malformed assignment is refused without quoting it: the argument holds a value.
    const malformed = cli(["secret", "set", SECRET], { env: { ...person, TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: "tvk_x" } });
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/argument 1: expected KEY=VALUE/);
    expect(malformed.stderr).not.toContain(SECRET);
    // --version is not an error.
    expect(cli(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("says in one line that the server is down (exit 1, no stack trace)", async () => {
    const port = await freePort(); // released: nothing listens there
    const down = cli(["token", "list"], { env: userEnv({ TOKEN_VAULT_URL: `http://127.0.0.1:${port}`, TOKEN_VAULT_TOKEN: "tvk_x" }) });
    expect(down.status).toBe(1);
    expect(down.stdout).toBe("");
    expect(down.stderr.trim().split("\n")).toEqual([`error: cannot reach the vault server at http://127.0.0.1:${port} (ECONNREFUSED): is it running, and is the URL right?`]);
  });
});

describe("token-vault: a person's session", () => {
  it("logs in with the password read hidden (stdin here), stores the session 0600 in a 0700 dir, never the password", () => {
    const dir = person.TOKEN_VAULT_CONFIG_DIR ?? "";
    const login = cli(["login", "--url", baseUrl()], { env: person, input: `${email}\n${PASSWORD}\n` });
    expect(login.status, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${baseUrl()} as ${email}`);
    const file = join(dir, "session.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const session = JSON.parse(readFileSync(file, "utf8"));
    expect(session).toMatchObject({ url: baseUrl(), email });
    expect(session.token).toMatch(/^ey/);
    expect(readFileSync(file, "utf8")).not.toContain(PASSWORD);

    const whoami = cli(["whoami", "--json"], { env: person });
    expect(whoami.status).toBe(0);
    expect(whoami.json).toMatchObject({ mode: "session", url: baseUrl(), email, vault: `${teamRef} (your only vault)` });
    expect(whoami.json.vaults.map((v: { id: string }) => v.id)).toEqual([teamId]);
  });

  it("a wrong password is the server's error (exit 1, code printed) and keeps the old session", () => {
    const env = userEnv();
    const wrong = cli(["login", "--url", baseUrl(), "--email", email], { env, input: "not-the-password\n" });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/\(invalid_credentials, HTTP 401\)/);
    expect(existsSync(join(env.TOKEN_VAULT_CONFIG_DIR ?? "", "session.json"))).toBe(false);
  });

  it("uses XDG_CONFIG_HOME/token-vault without the override; logout forgets the session", () => {
    const email = xdgEmail;
    const xdg = tempDir("xdg");
    const env = { ...userEnv(), TOKEN_VAULT_CONFIG_DIR: undefined, XDG_CONFIG_HOME: xdg };
    expect(cli(["login", "--url", baseUrl(), "--email", email], { env, input: `${PASSWORD}\n` }).status).toBe(0);
    const file = join(xdg, "token-vault", "session.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(cli(["whoami"], { env }).stdout).toContain(email);
    const logout = cli(["logout"], { env });
    expect(logout.status).toBe(0);
    expect(existsSync(file)).toBe(false);
    expect(cli(["whoami"], { env }).status).toBe(2);
  });

  it("key create|list|revoke for the person's vault; the new key drives agent mode", () => {
    const created = cli(["key", "create", "--name", "cli agent", "--scope", "tokens:read", "--scope", "tokens:write", "--scope", "tasks:read", "--scope", "tasks:write", "--scope", "audit:read", "--scope", "secrets:read", "--scope", "secrets:write", "--scope", "secrets:reveal", "--scope", "vault:read"], { env: person });
    expect(created.status, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^tvk_/);
    expect(created.stderr).toMatch(/not shown again/);
    agent = userEnv({ TOKEN_VAULT_URL: baseUrl(), TOKEN_VAULT_TOKEN: key });

    const list = cli(["key", "list", "--json"], { env: person });
    const mine = list.json.apiKeys.find((k: { name: string }) => k.name === "cli agent");
    expect(mine.scopes).toContain("secrets:reveal");
    agentKeyId = mine.id;
    expect(list.stdout).not.toContain(key);
    expect(cli(["key", "list"], { env: person }).stdout).toMatch(/^ID\s+NAME\s+PREFIX/);

    const whoami = cli(["whoami", "--json"], { env: agent });
    expect(whoami.json).toMatchObject({ mode: "api-key", url: baseUrl() });
    expect(whoami.json.vault).toMatch(new RegExp(`^(${teamId}|${teamRef} \\(your only vault\\))$`));
    expect(whoami.stdout).not.toContain(key);
    // A key-only command tells a person how to get a key.
    const needsKey = cli(["token", "list"], { env: person });
    expect(needsKey.status).toBe(2);
    expect(needsKey.stderr).toMatch(/needs an API key/);
  });
});

describe("token-vault: the API through an agent's key", () => {
  it("token create (value from stdin) | list --json | revoke", () => {
    const created = cli(["token", "create", "--name", "fal key", "--value", "-", "--json"], { env: agent, input: `${SECRET}\n` });
    expect(created.status, created.stderr).toBe(0);
    const id = created.json.token.id;
    expect(id).toMatch(/^tok_/);
    expect(cli(["token", "list", "--json"], { env: agent }).json.tokens.map((t: { id: string }) => t.id)).toContain(id);
    expect(cli(["token", "list"], { env: agent }).stdout).toMatch(new RegExp(`${id}\\s+fal key`));
    expect(cli(["token", "revoke", id], { env: agent }).stdout).toContain(`Revoked ${id}`);
    expect(cli(["token", "list", "--json"], { env: agent }).json.tokens.map((t: { id: string }) => t.id)).not.toContain(id);
    const unknown = cli(["token", "revoke", `tok_${"0".repeat(26)}`], { env: agent });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^error: .* \(not_found, HTTP 404\)$/m);
  });

  it("secret set NAME=- | get (the raw value, nothing else) | list | delete", () => {
    const set = cli(["secret", "set", "openai_api_key=-", "--json"], { env: agent, input: `${SECRET}\n` });
    expect(set.status, set.stderr).toBe(0);
    expect(set.json).toMatchObject({ success: true, action: "created" });
    const get = cli(["secret", "get", "openai_api_key"], { env: agent, revealed: true });
    expect(get.stdout).toBe(`${SECRET}\n`);
    expect(get.stderr).toBe("");
    const list = cli(["secret", "list", "--json"], { env: agent });
    expect(list.json.secrets.map((s: { name: string }) => s.name)).toContain("openai_api_key");
    expect(cli(["secret", "set", "openai_api_key=-"], { env: agent, input: SECRET }).stdout).toMatch(/^Updated openai_api_key/);
    expect(cli(["secret", "delete", "openai_api_key"], { env: agent }).stdout).toBe("Deleted openai_api_key.\n");
    const gone = cli(["secret", "get", "openai_api_key"], { env: agent, revealed: true });
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/HTTP 404/);
  });

  it("secret as the person: user-level in the chosen vault", () => {
    expect(cli(["secret", "set", `mine=${SECRET}`], { env: person }).status).toBe(0);
    expect(cli(["secret", "get", "mine"], { env: person, revealed: true }).stdout).toBe(`${SECRET}\n`);
    expect(cli(["secret", "list", "--json"], { env: person }).json.secrets.map((s: { name: string }) => s.name)).toEqual(["mine"]);
    // The app's secrets (the agent's key) are another owner's.
    expect(cli(["secret", "list", "--json"], { env: agent }).json.secrets.map((s: { name: string }) => s.name)).not.toContain("mine");
    expect(cli(["secret", "delete", "mine"], { env: person }).status).toBe(0);
  });

  it("credential create|rotate|list and lease create|renew|list|revoke; the value only with --reveal", () => {
    const created = cli(["credential", "create", "openai-api-key-prod", "--value", "-", "--metadata", "service=openai", "--metadata", "environment=production", "--default-ttl", "30m", "--max-ttl", "4h", "--max-leases", "5", "--json"], {
      env: agent,
      input: SECRET,
    });
    expect(created.status, created.stderr).toBe(0);
    expect(created.json.credential).toMatchObject({ name: "openai-api-key-prod", currentVersion: 1, effectivePolicy: { defaultLeaseTTLSeconds: 1800, maxLeaseTTLSeconds: 14400, maxLeases: 5 } });
    expect(cli(["credential", "list", "--service", "openai", "--json"], { env: agent }).json.credentials.map((c: { name: string }) => c.name)).toEqual(["openai-api-key-prod"]);
    expect(cli(["credential", "list"], { env: agent }).stdout).toMatch(/openai-api-key-prod\s+tok_\S+\s+api-key\s+1\s+openai\s+production/);

    const hidden = cli(["lease", "create", "openai-api-key-prod", "--identity", "agent:claude-code", "--ttl", "10m", "--json"], { env: agent });
    expect(hidden.status, hidden.stderr).toBe(0);
    expect(hidden.json.lease.value).toBeUndefined();
    expect(cli(["lease", "create", "openai-api-key-prod", "--identity", "agent:claude-code"], { env: agent }).stdout).toMatch(/value\s+\(hidden: --reveal prints it\)/);
    const revealed = cli(["lease", "create", "openai-api-key-prod", "--identity", "agent:claude-code", "--reveal"], { env: agent, revealed: true });
    expect(revealed.stdout).toBe(`${SECRET}\n`);
    const leaseId = hidden.json.lease.id;

    const rotated = cli(["credential", "rotate", "openai-api-key-prod", "--value", "-", "--json"], { env: agent, input: `${SECRET}-v2` });
    expect(rotated.json).toMatchObject({ credential: { currentVersion: 2 }, previousVersion: { version: 1, state: "rotated" } });
    expect(cli(["lease", "renew", leaseId, "--ttl", "20m", "--json"], { env: agent }).json.lease).toMatchObject({ id: leaseId, state: "active" });
    const active = cli(["lease", "list", "--credential", "openai-api-key-prod", "--active", "--json"], { env: agent });
    expect(active.json.leases.length).toBe(3);
    expect(cli(["lease", "revoke", leaseId], { env: agent }).stdout).toContain(`Revoked lease ${leaseId}`);
    expect(cli(["lease", "list", "--active", "--json"], { env: agent }).json.leases.map((l: { id: string }) => l.id)).not.toContain(leaseId);
    const capped = cli(["lease", "create", "nope", "--identity", "agent:x"], { env: agent });
    expect(capped.status).toBe(1);
    expect(capped.stderr).toMatch(/HTTP 404/);
    expect(cli(["lease", "create", "x", "--identity", "nocolon"], { env: agent }).status).toBe(2);
  });

  it("task create --wait (final status and result) | get | list | cancel; audit --action --target", async () => {
    const id = namespace("cli");
    const token = cli(["token", "create", "--name", "upstream", "--value", "-", "--json"], { env: agent, input: SECRET }).json.token.id as string;
    const done = cli(["task", "create", "--url", `${ns(id)}/ok`, "--header", `Authorization: Bearer ${token}`, "--body", "-", "--wait", "--json"], { env: agent, input: '{"hello":"world"}' });
    expect(done.status, done.stderr).toBe(0);
    expect(done.json.task).toMatchObject({ status: "completed", result: { statusCode: 200 } });
    const [received] = await retried(() => upstreamRecords(id));
    expect(received?.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(received?.body).toBe('{"hello":"world"}');

    const human = cli(["task", "get", done.json.task.id], { env: agent });
    expect(human.stdout).toMatch(/status\s+completed/);
    expect(human.stdout).toMatch(/result\s+HTTP 200/);
    expect(cli(["task", "get", done.json.task.id, "--wait", "--json"], { env: agent }).json.task.status).toBe("completed");
    expect(cli(["task", "list", "--status", "completed", "--json"], { env: agent }).json.tasks.map((t: { id: string }) => t.id)).toContain(done.json.task.id);

    const delayed = cli(["task", "create", "--url", `${ns(id)}/ok`, "--delay", "600", "--json"], { env: agent });
    expect(delayed.json.task.status).toBe("delayed");
    const cancelled = cli(["task", "cancel", delayed.json.task.id], { env: agent });
    expect(cancelled.stdout).toBe(`${delayed.json.task.id} cancelled\n`);
    const twice = cli(["task", "cancel", delayed.json.task.id], { env: agent });
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/\(task_not_cancellable, HTTP 409\)/);

    const audit = cli(["audit", "--action", "token.created", "--target", token, "--json"], { env: agent });
    expect(audit.json.entries.length).toBe(1);
    expect(audit.json.entries[0]).toMatchObject({ action: "token.created", target: { id: token } });
    expect(cli(["audit", "--limit", "5"], { env: agent }).stdout).toMatch(/^TIME\s+ACTION\s+ACTOR\s+TARGET/);
  });
});

describe("token-vault: waiting on a terminal", () => {
  it("task create --wait shows a spinner with the elapsed time on a terminal only", () => {
    const id = namespace("cli-spin");
    const onTty = spawnSync("script", ["-qec", `${BIN} task create --url ${ns(id)}/slow/1500 --wait`, "/dev/null"], { env: plainEnv({ ...agent, TERM: "xterm" }), encoding: "utf8", timeout: 60_000 });
    runs.push({ args: ["task create --wait (terminal)"], status: onTty.status, stdout: onTty.stdout, stderr: onTty.stderr, json: undefined, revealed: false });
    expect(onTty.status, onTty.stdout).toBe(0);
    expect(onTty.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] waiting for task_\S+ \d+\.\ds/);
    expect(onTty.stdout.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "")).toMatch(/status\s+completed/);
    const piped = cli(["task", "create", "--url", `${ns(id)}/ok`, "--wait"], { env: agent });
    expect(piped.status).toBe(0);
    expect(piped.stderr).toBe("");
    expect(piped.stdout).toMatch(/status\s+completed/);
  });
});

describe("token-vault: vault selection", () => {
  it("--vault > TOKEN_VAULT_VAULT > ./token-vault.json > the only vault; otherwise an error naming the choices", async () => {
    const otherTeam = bob.teamId;
    const added = await retried(() => request("POST", `/teams/${otherTeam}/members`, { key: bob.token, body: { email, role: "admin" } }));
    expect(added.status).toBe(201);

    const cwd = tempDir("project");
    const vaultOf = (env: Record<string, string | undefined>, args: string[] = []) => cli(["whoami", "--json", ...args], { env, cwd }).json.vault as string | null;
    expect(vaultOf(person)).toBeNull();
    const ambiguous = cli(["key", "list"], { env: person, cwd });
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toContain("several vaults: choose one with --vault, TOKEN_VAULT_VAULT or `token-vault vault init`");
    expect(ambiguous.stderr).toContain(teamId);
    expect(ambiguous.stderr).toContain(otherTeam);

    const init = cli(["vault", "init", otherTeam], { env: person, cwd });
    expect(init.status, init.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(cwd, "token-vault.json"), "utf8"))).toEqual({ vault: bob.ref });
    expect(vaultOf(person)).toBe(`${bob.ref} (token-vault.json)`);
    expect(vaultOf({ ...person, TOKEN_VAULT_VAULT: teamId })).toBe(`${teamRef} (TOKEN_VAULT_VAULT)`);
    expect(vaultOf({ ...person, TOKEN_VAULT_VAULT: teamId }, ["--vault", bob.ref])).toBe(`${bob.ref} (--vault)`);
    // The choice reaches the API: each vault's own keys.
    const keysOf = (vault: string) => cli(["key", "list", "--json", "--vault", vault], { env: person, cwd }).json.apiKeys.map((k: { id: string }) => k.id);
    expect(keysOf(teamId)).toContain(agentKeyId);
    expect(keysOf(otherTeam)).not.toContain(agentKeyId);
    const unknown = cli(["key", "list", "--vault", "no-such-vault"], { env: person, cwd });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/no vault "no-such-vault" \(from --vault\); yours: /);
    const listed = cli(["vault", "list", "--json"], { env: person, cwd }).json.vaults.map((v: { id: string }) => v.id);
    expect(listed.sort()).toEqual([teamId, otherTeam].sort());
  });

  it("key revoke: the agent's key is refused from then on", () => {
    expect(cli(["key", "revoke", agentKeyId], { env: person }).status).toBe(0);
    const refused = cli(["token", "list"], { env: agent });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/\(invalid_api_key, HTTP 401\)/);
  });
});

describe("token-vault: terminals and colours", () => {
  // `script` gives the CLI a terminal, so colours are decided as for a person at a prompt.
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

  it("colours only on a terminal and never with NO_COLOR; piped output is plain", () => {
    expect(hasScript).toBe(true);
    const onTty = (env: Record<string, string | undefined>) =>
      spawnSync("script", ["-qec", `${BIN} vault list`, "/dev/null"], { env: plainEnv(env), encoding: "utf8", timeout: 60_000 }).stdout;
    expect(onTty({ ...person, TERM: "xterm" })).toContain(`${ESC}1m`);
    expect(onTty({ ...person, TERM: "xterm", NO_COLOR: "1" })).not.toContain(ESC);
    expect(cli(["vault", "list"], { env: person }).stdout).not.toContain(ESC);
  });
});

describe("token-vault: prompts on a terminal", () => {
  it("login asks for the email (echoed) and the password (never echoed)", async () => {
    const env = userEnv({ TERM: "xterm" });
    const child = spawn("script", ["-qec", `${BIN} login --url ${baseUrl()}`, "/dev/null"], { env: Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined)) });
    let screen = "";
    const answered = new Set<string>();
    // Each answer is typed once its prompt is on the screen, as a person would.
    child.stdout.on("data", (chunk: Buffer) => {
      screen += chunk.toString("utf8");
      for (const [prompt, answer] of [["Email: ", email], ["Password: ", PASSWORD]] as const) {
        if (screen.includes(prompt) && !answered.has(prompt)) {
          answered.add(prompt);
          child.stdin.write(`${answer}\r`);
        }
      }
    });
    const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
    runs.push({ args: ["login (terminal)"], status: code, stdout: screen, stderr: "", json: undefined, revealed: false });
    expect(code, screen).toBe(0);
    expect(screen).toContain(`Email: ${email}`);
    expect(screen).toMatch(/Password: \r?\n/);
    expect(screen).not.toContain(PASSWORD);
    expect(existsSync(join(env.TOKEN_VAULT_CONFIG_DIR ?? "", "session.json"))).toBe(true);
  });
});

describe("token-vault: the bin as npx runs it", () => {
  it("resolves the project's own bin offline: `npx token-vault` never asks the registry", () => {
    // npm exec runs a bin named in the project's own package.json before looking anywhere else;
    // offline mode would fail loudly if it tried the registry (there is an unrelated package
    // of that name).
    const out = execFileSync("npx", ["token-vault", "--help"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, npm_config_offline: "true", npm_config_update_notifier: "false" } });
    expect(out).toContain("The command line of Token Vault");
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(pkg.bin).toEqual({ "token-vault": "dist/cli/token-vault.js" });
    expect(readFileSync(BIN, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    // The bin imports the built client; it carries no HTTP code of its own.
    expect(readFileSync(BIN, "utf8")).toMatch(/from "\.\.\/client\/index\.js"/);
    expect(readFileSync(BIN, "utf8")).not.toMatch(/\bfetch\(/);
  });
});

describe("token-vault: the canary", () => {
  it("appears in no stdout, stderr or file of the CLI except where a value was asked for", () => {
    // Sanity: the search sees the reveals, so it would see a leak.
    expect(runs.filter((r) => r.revealed && r.stdout.includes(SECRET)).length).toBeGreaterThanOrEqual(3);
    expect(leaks(SECRET)).toEqual([]);
    expect(leaks(PASSWORD)).toEqual([]);
  });
});
