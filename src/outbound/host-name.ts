/**
 * The host name as the policy compares it: lower-cased, the trailing dot of a fully qualified
 * name stripped (`a.b.` and `a.b` name the same host). Undefined when a label is empty (`a..b`,
 * `.a`, `a..`, `.`): such names mean only what some resolver decides to make of them. IPv6
 * literals (`[...]`) are returned as they are.
 */
export function normalizeHost(hostname: string): string | undefined {
  const lower = hostname.toLowerCase();
  if (lower.startsWith("[")) return lower;
  // One trailing dot is the DNS root; any more is an empty label.
  const name = lower.endsWith(".") ? lower.slice(0, -1) : lower;
  if (name.split(".").some((label) => label === "")) return undefined;
  return name;
}
