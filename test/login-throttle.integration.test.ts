/**
 * Issue 9, finding 8: wrong passwords from one address must not lock the account's owner out
 * everywhere, while brute force stays expensive (one address: 10 tries a minute) and an attack
 * spread over several addresses still meets a per-account ceiling.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { LOGIN_LIMITS, LoginThrottle } from "../src/auth/login-throttle";
import { call } from "./helpers/api";
import { PASSWORD, signupUser } from "./helpers/accounts";

let n = 0;
/** A fresh address per use, so limits of unrelated tests never add up. */
const freshAddress = () => `198.18.${Math.floor(++n / 250)}.${n % 250}`;
const login = (email: string, password: string, address: string) => call("POST", "/auth/login", { body: { email, password }, headers: { "cf-connecting-ip": address } });

describe("login limits per (account, address) under a per-account ceiling", () => {
  it("stops an attacker at one address after 10 tries while the owner logs in from another", async () => {
    const u = await signupUser("owner");
    const attacker = freshAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(u.email, `wrong-password-${i}`, attacker)).status);
    expect(statuses).toEqual([...Array(LOGIN_LIMITS.perEmailAndAddress).fill(401), 429, 429]);
    const refused = await login(u.email, PASSWORD, attacker);
    expect(refused.status).toBe(429);
    expect(refused.json).toEqual({ error: "Too many attempts, try again later", code: "too_many_attempts" });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The owner, elsewhere, is not locked out (the attacker spent only its share of the account's ceiling).
    const owner = await login(u.email, PASSWORD, freshAddress());
    expect(owner.status).toBe(200);
    expect(owner.json.token).toEqual(expect.any(String));
  });

  it("still stops a distributed attack at the account's ceiling", async () => {
    const u = await signupUser("target");
    const statuses: number[] = [];
    // Five addresses, three tries each: 3 + 3 + 3 + 1 reach the ceiling of 10.
    for (let a = 0; a < 5; a++) {
      const address = freshAddress();
      for (let i = 0; i < 3; i++) statuses.push((await login(u.email, `guess-${a}-${i}`, address)).status);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_LIMITS.perEmail);
    expect(statuses.slice(LOGIN_LIMITS.perEmail)).toEqual(Array(15 - LOGIN_LIMITS.perEmail).fill(429));
    // Any new address now waits too, the right password included.
    expect((await login(u.email, PASSWORD, freshAddress())).status).toBe(429);
  });

  it("keeps an account's attempts across a restart of its throttle object", async () => {
    const stub = env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName("restart-test"));
    const rule = { perSource: 2, sharePerSource: 2, ceiling: 2 };
    expect((await stub.attempt("a", rule)).allowed).toBe(true);
    expect((await stub.attempt("a", rule)).allowed).toBe(true);
    const fresh = await runInDurableObject(stub, (_instance, state) => new LoginThrottle(state, env).attempt("a", rule));
    expect(fresh.allowed).toBe(false);
    expect((await stub.attempt("b", rule)).allowed).toBe(false);
  });
});
