// Teams: Pro teams whose keys the load rotates through, so the rate limiter stays on but never refuses.
import { randomBytes } from "node:crypto";
import { TEAM_BUDGET, TEAM_WINDOW_MS } from "./config.mjs";
import { request } from "./http.mjs";
import { mapLimit, now } from "./util.mjs";

export class TeamPool {
  constructor() {
    this.teams = [];
    this.cursor = 0;
  }
  add(team) {
    team.uses = [];
    this.teams.push(team);
  }
  free(team, at) {
    const cutoff = at - TEAM_WINDOW_MS;
    while (team.uses.length > 0 && team.uses[0] < cutoff) team.uses.shift();
    return TEAM_BUDGET - team.uses.length;
  }
  capacity() {
    const at = now();
    return this.teams.reduce((sum, t) => sum + Math.max(0, this.free(t, at)), 0);
  }
  /** The next team (round robin) with budget left in its window; counts one use. */
  pick() {
    const at = now();
    for (let i = 0; i < this.teams.length; i++) {
      const team = this.teams[this.cursor++ % this.teams.length];
      if (this.free(team, at) > 0) {
        team.uses.push(at);
        return team;
      }
    }
    this.exhausted = (this.exhausted ?? 0) + 1;
    const team = this.teams[this.cursor++ % this.teams.length];
    team.uses.push(at);
    return team; // will be 429'd and reported as non-2xx
  }
}

/**
 * Teams, tokens and request bodies made through the Worker's own API (operator token for
 * teams), plus the pool of Pro teams the load runs rotate through.
 */
export function teamFixtures({ base, adminToken, targetBase }) {
  const admin = { authorization: `Bearer ${adminToken}` };
  const createTeam = async (plan, name) => {
    const res = await request(base, "POST", "/admin/teams", { headers: admin, body: { name, plan } });
    if (res.status !== 201) throw new Error(`POST /admin/teams answered ${res.status}: ${res.text}`);
    return { id: res.json.team.id, key: res.json.key, plan };
  };
  const createToken = async (team, name) => {
    const res = await request(base, "POST", "/v1/tokens", {
      headers: { authorization: `Bearer ${team.key}` },
      body: { name, value: `sk_bench_${randomBytes(24).toString("hex")}` },
    });
    if (res.status !== 201) throw new Error(`POST /v1/tokens answered ${res.status}: ${res.text}`);
    return res.json.token.id;
  };

  // Pro teams, each with two tokens; task bodies reference them.
  const pool = new TeamPool();
  const taskBody = (team, tag, extra = {}) =>
    JSON.stringify({
      targetUrl: `${targetBase}/hit/${tag}`,
      method: "POST",
      headers: { Authorization: `Bearer ${team.tokens[0]}`, "X-Api-Key": team.tokens[1], "Content-Type": "application/json" },
      body: '{"prompt":"a beautiful sunset over mountains"}',
      ...extra,
    });
  const growPool = async (count) => {
    const created = await mapLimit(Array.from({ length: count }), 8, async (_, i) => {
      const team = await createTeam("pro", `bench pro ${pool.teams.length + i}`);
      team.tokens = [await createToken(team, "bench A"), await createToken(team, "bench B")];
      team.bodies = {
        token: Buffer.from(JSON.stringify({ name: "bench token", value: `sk_bench_${randomBytes(24).toString("hex")}` })),
        task: Buffer.from(taskBody(team, "create-bench", { delay: 3600 })),
      };
      return team;
    });
    for (const team of created) {
      pool.add(team);
      team.uses.push(now(), now()); // the two token creations
    }
  };
  // Makes sure the pool can take `seconds` of load at `rps` without any key reaching its limit.
  const ensureCapacity = async (rps, seconds) => {
    const needed = Math.ceil(rps * seconds * 1.3) + 1000;
    const missing = needed - pool.capacity();
    if (missing > 0) await growPool(Math.ceil(missing / TEAM_BUDGET));
  };
  /** An autocannon setupRequest: the next pool team's key and, if named, its prepared body. */
  const rotating = (bodyName) => (req) => {
    const team = pool.pick();
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${team.key}` }, ...(bodyName ? { body: team.bodies[bodyName] } : {}) };
  };
  return { pool, adminToken, createTeam, createToken, taskBody, growPool, ensureCapacity, rotating };
}
