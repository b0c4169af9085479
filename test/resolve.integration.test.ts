import { describe, expect, it } from "vitest";
import { resolveTokens, TokenUnavailableError } from "../src/vault/tokens";
import { call, newTeam, newToken } from "./helpers/api";
import { CANARY } from "./helpers/constants";
import { taskStepContext } from "./helpers/context";

const taskCaller = (teamId: string, apiKeyId: string) => taskStepContext(teamId, apiKeyId, "task_01test", "req_resolve");

describe("resolving references at execution", () => {
  it("decrypts all of a task's references and audits each access", async () => {
    const team = await newTeam();
    const ids = [await newToken(team.key, `${CANARY}-a`), await newToken(team.key, `${CANARY}-b`)];
    const caller = await taskCaller(team.team.id, team.apiKey.id);
    const values = await resolveTokens(caller, [...ids, ids[0]!]);
    expect([...values.entries()]).toEqual([[ids[0], `${CANARY}-a`], [ids[1], `${CANARY}-b`]].sort());
    const audit = await call("GET", "/v1/audit?action=token.accessed", { key: team.key });
    expect(audit.json.entries).toHaveLength(2);
    expect(audit.json.entries[0].actor).toEqual({ type: "task", id: "task_01test", apiKeyId: team.apiKey.id });
    expect(audit.text).not.toContain(CANARY);
  });

  it("refuses revoked, unknown and other teams' references alike, and audits nothing", async () => {
    const a = await newTeam();
    const b = await newTeam();
    const mine = await newToken(a.key, CANARY);
    const revoked = await newToken(a.key, CANARY);
    await call("DELETE", `/v1/tokens/${revoked}`, { key: a.key });
    const theirs = await newToken(b.key, CANARY);
    const caller = await taskCaller(a.team.id, a.apiKey.id);
    for (const ref of [revoked, theirs, "tok_01jrx7m2k0000000000000000a"]) {
      const error = await resolveTokens(caller, [mine, ref]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenUnavailableError);
      expect((error as TokenUnavailableError).tokenIds).toEqual([ref]);
      expect((error as Error).message).not.toContain(CANARY);
    }
    const audit = await call("GET", "/v1/audit?action=token.accessed", { key: a.key });
    expect(audit.json.entries).toEqual([]);
  });
});
