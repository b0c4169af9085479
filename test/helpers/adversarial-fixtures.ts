import { env } from "cloudflare:test";
import { ALL_SCOPES } from "../../src/auth/scopes";
import type { Operation } from "../adversarial/corpus";
import { signupUser } from "./accounts";
import { call, newTeam, newToken } from "./api";
import { TEST_ADMIN_TOKEN } from "./constants";

/**
 * Fixtures for the adversarial suite in the Workers pool: for each auth mode, real resources
 * the caller owns, by id prefix. A path parameter whose prefix has no provider here fails the
 * suite (test/adversarial.integration.test.ts), so a new kind of id cannot go unfuzzed.
 */
export const ID_PROVIDERS: Record<Operation["auth"], readonly string[]> = {
  apiKey: ["tok", "task", "key", "lease", "secrets.name", "credentials.name", "vaults.vault", "credentials.key", "services.name", "prop"],
  user: ["team", "usr", "inv", "key"],
  admin: ["team", "key"],
  none: [],
};

export interface Fixture {
  auth: Record<string, string>;
  ids: Record<string, string>;
  /** Team ids whose rows are counted before and after each refused request. */
  teams: string[];
  /** Text of the caller's own resources (for the cross-tenant searches). */
  marks: string[];
}

let counter = 0;
const mark = (label: string) => `${label}-mark-${++counter}-${crypto.randomUUID().slice(0, 8)}`;

/**
 * A fresh Pro team and a key holding every scope (reveal included), with a token, a delayed (so
 * cancellable, never executed) task, a named secret, a credential and a lease on it.
 */
export async function apiKeyFixture(): Promise<Fixture> {
  const team = await newTeam("pro");
  const created = await call("POST", `/admin/teams/${team.team.id}/apikeys`, { admin: true, body: { name: "fuzz all scopes", scopes: ALL_SCOPES } });
  if (created.status !== 201) throw new Error(`key fixture: ${created.status} ${created.text}`);
  const key: string = created.json.key;
  const tokenName = mark("tokname");
  const tok = await newToken(key, `secret-${tokenName}`, tokenName);
  const targetUrl = `https://api.example.com/${mark("taskurl")}`;
  const task = await call("POST", "/v1/tasks", { key, body: { targetUrl, delay: 3600 } });
  const secretName = mark("secret").replace(/-/g, "_");
  const secret = await call("POST", "/vault/secrets", { key, body: { name: secretName, value: `value-${secretName}` } });
  const credentialName = mark("cred");
  const credential = await call("POST", "/v1/credentials", { key, body: { name: credentialName, type: "api-key", value: `value-${credentialName}`, policy: { maxLeases: 50 } } });
  const lease = await call("POST", "/v1/leases", { key, body: { credentialName, ttl: "1h", identity: { type: "agent", name: "fuzz" } } });
  const vaultKey = mark("KEY").toUpperCase().replace(/-/g, "_");
  const vaultCredential = await call("POST", `/v1/vaults/${team.team.id}/credentials`, { key, body: { credentials: { [vaultKey]: `value-${vaultKey}` } } });
  const serviceName = mark("svc");
  const service = await call("POST", `/v1/vaults/${team.team.id}/services`, { key, body: { name: serviceName, host: "api.example.com", auth: { type: "bearer", token: vaultKey } } });
  if (vaultCredential.status !== 200 || service.status !== 200) throw new Error(`vault fixture: ${vaultCredential.status} ${service.status} ${service.text}`);
  const proposalMessage = mark("proposal");
  const proposal = await call("POST", "/v1/proposals", { key, body: { message: proposalMessage, services: [{ name: mark("psvc"), host: "api.example.com", auth: { type: "bearer", token: vaultKey } }] } });
  if (proposal.status !== 201) throw new Error(`proposal fixture: ${proposal.status} ${proposal.text}`);
  for (const [what, res] of [["task", task], ["secret", secret], ["credential", credential], ["lease", lease]] as const) {
    if (res.status !== 201) throw new Error(`${what} fixture: ${res.status} ${res.text}`);
  }
  return {
    auth: { authorization: `Bearer ${key}` },
    ids: {
      tok,
      task: task.json.task.id,
      key: created.json.apiKey.id,
      lease: lease.json.lease.id,
      "secrets.name": secretName,
      "credentials.name": credentialName,
      "vaults.vault": team.team.id,
      "credentials.key": vaultKey,
      "services.name": serviceName,
      prop: proposal.json.proposal.id,
    },
    teams: [team.team.id],
    marks: [tokenName, targetUrl, team.team.id, secretName, credentialName, vaultKey, serviceName, proposalMessage],
  };
}

/** A signed-up user (owner of a team upgraded to Pro) with an API key and a pending invitation. */
export async function userFixture(): Promise<Fixture> {
  const user = await signupUser("fuzz");
  const headers = { authorization: `Bearer ${user.token}` };
  await call("PATCH", `/admin/teams/${user.team.id}`, { admin: true, body: { plan: "pro" } });
  const key = await call("POST", `/teams/${user.team.id}/apikeys`, { headers, body: { name: "fuzz key" } });
  const invited = await call("POST", `/teams/${user.team.id}/members`, { headers, body: { email: `${mark("invitee")}@example.com` } });
  if (key.status !== 201 || invited.status !== 201) throw new Error(`user fixture: ${key.status} ${invited.status}`);
  return {
    auth: headers,
    ids: { team: user.team.id, usr: user.user.id, inv: invited.json.invitation.id, key: key.json.apiKey.id },
    teams: [user.team.id],
    marks: [user.team.id, user.email],
  };
}

/** An operator's view of a sacrificial team (its key may be revoked by the fuzzer). */
export async function adminFixture(): Promise<Fixture> {
  const team = await newTeam("pro");
  return { auth: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, ids: { team: team.team.id, key: team.apiKey.id }, teams: [team.team.id], marks: [] };
}

export async function fixtureFor(auth: Operation["auth"]): Promise<Fixture> {
  if (auth === "apiKey") return apiKeyFixture();
  if (auth === "user") return userFixture();
  if (auth === "admin") return adminFixture();
  return { auth: {}, ids: {}, teams: [], marks: [] };
}

/**
 * Row counts of every table, scoped to `teams` (tables with a team_id), plus the rows the
 * fuzzer's own markers would create (teams and users named or mailed "fuzz"). Other test files
 * share the database, so nothing outside that scope is counted.
 */
let tableKinds: Promise<{ name: string; kind: "teams" | "users" | "team_id" }[]> | undefined;

async function readTableKinds() {
  const { results: tables } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'").all<{ name: string }>();
  const kinds: { name: string; kind: "teams" | "users" | "team_id" }[] = [];
  for (const { name } of tables) {
    const { results: columns } = await env.DB.prepare(`PRAGMA table_info(${name})`).all<{ name: string }>();
    if (name === "teams" || name === "users") kinds.push({ name, kind: name });
    else if (columns.some((col) => col.name === "team_id")) kinds.push({ name, kind: "team_id" });
  }
  return kinds;
}

export async function rowCounts(teams: string[]): Promise<Record<string, number>> {
  const kinds = await (tableKinds ??= readTableKinds());
  const ids = teams.length > 0 ? teams : ["(none)"];
  const inList = ids.map(() => "?").join(", ");
  const statements = kinds.map(({ name, kind }) =>
    kind === "teams"
      ? env.DB.prepare(`SELECT COUNT(*) AS n FROM teams WHERE id IN (${inList}) OR name LIKE 'fuzz%'`).bind(...ids)
      : kind === "users"
        ? env.DB.prepare("SELECT COUNT(*) AS n FROM users WHERE email LIKE '%fuzz.invalid'")
        : env.DB.prepare(`SELECT COUNT(*) AS n FROM ${name} WHERE team_id IN (${inList})`).bind(...ids),
  );
  const results = await env.DB.batch<{ n: number }>(statements);
  return Object.fromEntries(kinds.map((k, i) => [k.name, results[i]?.results[0]?.n ?? -1]));
}
