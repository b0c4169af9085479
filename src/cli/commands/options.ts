import { InvalidArgumentError } from "commander";
import { UsageError } from "../errors";

/** Option parsers: a bad value is a usage error (exit 2) naming the option, not the value's text. */
export function intOption(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new InvalidArgumentError("expected a whole number");
  return Number(raw);
}

/** Repeatable options (`--header a --header b`). */
export function collect(raw: string, previous: string[] = []): string[] {
  return [...previous, raw];
}

/** Repeatable and comma-separated (`--scope a,b --scope c`). */
export function collectList(raw: string, previous: string[] = []): string[] {
  return [...previous, ...raw.split(",").map((s) => s.trim()).filter(Boolean)];
}

/** `k=v` pairs of a repeatable option into an object (metadata). */
export function pairs(list: string[] | undefined, what: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`${what}: expected key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
