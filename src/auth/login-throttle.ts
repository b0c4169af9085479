import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../encoding";
import type { Env } from "../env";
import { PerSourceWindow, plainLimit, type SharedLimit } from "../ratelimit/per-source-window";
import type { RateLimitDecision } from "../ratelimit/sliding-window";

const WINDOW_MS = 60_000;

/**
 * Login and sign-up attempts per minute. Per account (email), each client address gets
 * `perEmailAndAddress` attempts, and all addresses together stop at `perEmail`, where one
 * address spends at most `addressShare` of it: an attacker at one address is stopped after 10
 * tries without locking the account's owner out anywhere else, while an attack spread over
 * several addresses (at least ceil(perEmail / addressShare) = 4) still meets a ceiling. Per
 * address, across accounts, `perAddress` login attempts and `signupPerAddress` sign-ups.
 */
export const LOGIN_LIMITS = { perEmailAndAddress: 10, addressShare: 3, perEmail: 10, perAddress: 30, signupPerAddress: 30 };

const PER_EMAIL: SharedLimit = { perSource: LOGIN_LIMITS.perEmailAndAddress, sharePerSource: LOGIN_LIMITS.addressShare, ceiling: LOGIN_LIMITS.perEmail };

/**
 * One throttled name (an account, or a client address): a Durable Object holding the admitted
 * attempts of the last minute by source. Attempts are written to its SQLite storage as they
 * are admitted (logins are rare enough), so an eviction does not hand out a fresh window, and
 * the object deletes its storage once a minute passes without attempts.
 */
export class LoginThrottle extends DurableObject<Env> {
  private window: PerSourceWindow | undefined;

  private load(now: number): PerSourceWindow {
    if (!this.window) {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS attempts (t INTEGER NOT NULL, source TEXT NOT NULL)");
      const rows = this.ctx.storage.sql
        .exec<{ t: number; source: string }>("SELECT t, source FROM attempts WHERE t >= ?", now - WINDOW_MS)
        .toArray();
      this.window = new PerSourceWindow(WINDOW_MS, rows);
    }
    return this.window;
  }

  /** Counts one attempt from `source` under `rule`; refused attempts are not counted. */
  async attempt(source: string, rule: SharedLimit): Promise<RateLimitDecision> {
    const now = Date.now();
    const decision = this.load(now).consume(now, source, rule);
    if (decision.allowed) {
      this.ctx.storage.sql.exec("INSERT INTO attempts (t, source) VALUES (?, ?)", now, source);
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(now + WINDOW_MS + 1000);
    }
    return decision;
  }

  /** Trims what left the window; an object with nothing left forgets everything. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.load(now).prune(now);
    this.ctx.storage.sql.exec("DELETE FROM attempts WHERE t < ?", now - WINDOW_MS);
    if (this.window?.size === 0) {
      this.window = undefined;
      await this.ctx.storage.deleteAll();
    } else {
      await this.ctx.storage.setAlarm(now + WINDOW_MS);
    }
  }
}

/**
 * The bucket a client address is limited under: an IPv4 address, or an IPv6 address's /64
 * (one subscriber's usual allocation, so rotating within it gains nothing).
 */
export function addressBucket(address: string): string {
  // IPv4, and IPv6 forms embedding one, are limited as they are.
  if (!address.includes(":") || address.includes(".")) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") && tail ? tail.split(":") : [];
  const groups = address.includes("::") ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

function throttle(env: Pick<Env, "LOGIN_THROTTLE">, name: string) {
  return env.LOGIN_THROTTLE.get(env.LOGIN_THROTTLE.idFromName(name));
}

/** The typed client of the login throttle: the first refusal wins. */
export function loginThrottle(env: Pick<Env, "LOGIN_THROTTLE">) {
  return {
    async login(email: string, address: string): Promise<RateLimitDecision> {
      const bucket = addressBucket(address);
      const perEmail = await throttle(env, `login:email:${await sha256Hex(email)}`).attempt(await sha256Hex(bucket), PER_EMAIL);
      if (!perEmail.allowed) return perEmail;
      return throttle(env, `login:addr:${bucket}`).attempt("", plainLimit(LOGIN_LIMITS.perAddress));
    },
    signup: (address: string): Promise<RateLimitDecision> =>
      throttle(env, `signup:addr:${addressBucket(address)}`).attempt("", plainLimit(LOGIN_LIMITS.signupPerAddress)),
  };
}
