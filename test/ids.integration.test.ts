import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { call, newTeam, newToken } from "./helpers/api";
import { CANARY } from "./helpers/constants";

/**
 * Cursor pagination (`WHERE id < ? ORDER BY id DESC`) and "newest first" lists rely on ids
 * sorting as text in creation order, in JavaScript and in D1 alike. These tests pin that
 * property of src/ids.ts. The generator keeps state (last time, last random part) per isolate,
 * so each test loads a fresh copy of the module to control the clock it sees.
 */
async function freshIds() {
  vi.resetModules();
  return import("../src/ids");
}

/** The millisecond time in an id's first 10 characters (Crockford base32). */
const timeOf = (body: string) => [...body.slice(0, 10)].reduce((t, c) => t * 32 + "0123456789abcdefghjkmnpqrstvwxyz".indexOf(c), 0);

/** Ascending by UTF-16 code units, which for these ASCII ids is SQLite's BINARY collation. */
const sorted = (ids: string[]) => [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = crypto.getRandomValues(new Uint32Array(1))[0]! % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("sortable ids (src/ids.ts)", () => {
  it("sorts ids of later milliseconds after earlier ones, across every digit of the time part", async () => {
    const { ulid, ID_BODY } = await freshIds();
    // Increasing times, including base-32 digit carries and the 48-bit maximum.
    const times = [0, 1, 31, 32, 33, 1023, 1024, 2 ** 30 - 1, 2 ** 30, Date.parse("2026-01-01T00:00:00Z"), Date.parse("2026-01-01T00:00:00.001Z"), 2 ** 40, 2 ** 47, 2 ** 48 - 2, 2 ** 48 - 1];
    let t = 2 ** 31;
    while (t < 2 ** 47) {
      times.push(t);
      t += 1 + Math.floor(Math.random() * 2 ** 40);
    }
    times.sort((a, b) => a - b);
    const ids = times.map((time) => ulid(time));
    for (const id of ids) expect(id).toMatch(new RegExp(`^${ID_BODY}$`));
    expect(ids.map(timeOf)).toEqual(times);
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([26]));
    expect(sorted(shuffled(ids))).toEqual(ids);
  });

  it("keeps ids strictly increasing within one millisecond and when the clock steps back", async () => {
    const { ulid } = await freshIds();
    const now = Date.parse("2026-05-01T12:00:00Z");
    const ids = [ulid(now)];
    // A fresh module: the previous test's far-future times do not leak into this one.
    expect(timeOf(ids[0]!)).toBe(now);
    for (let i = 0; i < 2000; i++) ids.push(ulid(now));
    // A clock that steps back (e.g. an NTP correction) must not make a later id sort earlier.
    ids.push(ulid(now - 5000), ulid(now - 1), ulid(now + 1), ulid(now + 1));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `id ${i} sorts after id ${i - 1}`).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Same millisecond: the same time prefix, the order carried by the incremented random part.
    expect(new Set(ids.slice(0, 2001).map(timeOf))).toEqual(new Set([now]));
  });

  it("prefixes each kind so ids of one kind compare by their time-ordered body", async () => {
    const { newId, ID_BODY } = await freshIds();
    const made = Array.from({ length: 50 }, () => newId.token());
    for (const id of made) expect(id).toMatch(new RegExp(`^tok_${ID_BODY}$`));
    expect(sorted(shuffled(made))).toEqual(made);
  });

  it("orders and pages in D1 exactly as created: ORDER BY id DESC, then WHERE id < cursor", async () => {
    const { ulid } = await freshIds();
    const now = Date.now();
    // A burst within one millisecond, then later ones: the case that relies on the increment.
    const created = [...Array.from({ length: 20 }, () => `tok_${ulid(now)}`), ...Array.from({ length: 5 }, (_, i) => `tok_${ulid(now + 1 + i)}`)];
    const rows = shuffled(created);
    const values = rows.map(() => "(?)").join(", ");
    const page = async (cursor: string | null, limit: number) =>
      (
        await env.DB.prepare(
          `WITH t(id) AS (VALUES ${values}) SELECT id FROM t ${cursor ? "WHERE id < ?" : ""} ORDER BY id DESC LIMIT ?`,
        )
          .bind(...rows, ...(cursor ? [cursor] : []), limit)
          .all<{ id: string }>()
      ).results.map((r) => r.id);

    const newestFirst = [...created].reverse();
    expect(await page(null, 100)).toEqual(newestFirst);
    // Walking by cursor, three at a time, visits every id once, newest first.
    const walked: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const ids = await page(cursor, 3);
      if (ids.length === 0) break;
      walked.push(...ids);
      cursor = ids[ids.length - 1]!;
    }
    expect(walked).toEqual(newestFirst);
  });

  it("pages GET /v1/tokens by cursor in creation order, newest first, each token once", async () => {
    const team = await newTeam();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push(await newToken(team.key, `${CANARY}-${i}`, `token ${i}`));
    // The ids the API handed out already sort in creation order.
    expect(sorted(created)).toEqual(created);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call("GET", `/v1/tokens?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: team.key });
      expect(res.status).toBe(200);
      walked.push(...res.json.tokens.map((t: { id: string }) => t.id));
      cursor = res.json.pagination.nextCursor;
    } while (cursor);
    expect(walked).toEqual([...created].reverse());
  });
});
