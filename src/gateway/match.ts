import { literalPrefixLength, patternMatches } from "./host-pattern";
import type { ServiceRule } from "./types";

/**
 * The service a proxied request goes to (issue 11, section 3). Among the services whose pattern
 * matches, an exact host beats a wildcard, a pattern with a port beats one without, the longer
 * literal path prefix wins, then declaration order. Disabled services take part: a request that
 * matches a disabled service is refused as `service_disabled`, not sent elsewhere.
 */
export function matchService(rules: readonly ServiceRule[], host: string, port: number, path: string): ServiceRule | undefined {
  let best: ServiceRule | undefined;
  for (const rule of rules) {
    if (!patternMatches(rule.pattern, host, port, path)) continue;
    if (best === undefined || compare(rule, best) < 0) best = rule;
  }
  return best;
}

/** Negative when `a` is preferred over `b`. */
function compare(a: ServiceRule, b: ServiceRule): number {
  if (a.pattern.wildcard !== b.pattern.wildcard) return a.pattern.wildcard ? 1 : -1;
  const aPort = a.pattern.port !== null;
  if (aPort !== (b.pattern.port !== null)) return aPort ? -1 : 1;
  const byPath = literalPrefixLength(b.pattern) - literalPrefixLength(a.pattern);
  if (byPath !== 0) return byPath;
  return a.position - b.position;
}
