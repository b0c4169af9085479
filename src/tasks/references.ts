import { ID_BODY } from "../ids";
import type { Plan } from "../plans";
import type { ExecutionHint } from "../queue/messages";
import type { TaskRow } from "./model";

/**
 * Vault references in task headers. A header value that is exactly `tok_...` or contains one
 * as a word (`Bearer tok_...`, `Key tok_...`) is a reference; other headers pass unchanged.
 * References in bodies are deliberately not resolved.
 */
const REFERENCE = new RegExp(`(?<![\\w-])tok_${ID_BODY}(?![\\w-])`, "g");
/** Anything that looks like a reference, well-formed or not. */
const REFERENCE_LIKE = /(?<![\w-])tok_[A-Za-z0-9_]*(?![\w-])/g;

/** Words that look like references but are not valid ids: sent as is, they would leak intent. */
export function malformedReferences(headers: Record<string, string>): string[] {
  const bad = new Set<string>();
  const valid = new RegExp(`^tok_${ID_BODY}$`);
  for (const value of Object.values(headers)) for (const match of value.matchAll(REFERENCE_LIKE)) if (!valid.test(match[0])) bad.add(match[0]);
  return [...bad];
}

export function referencesIn(headers: Record<string, string>): string[] {
  const found = new Set<string>();
  for (const value of Object.values(headers)) for (const match of value.matchAll(REFERENCE)) found.add(match[0]);
  return [...found];
}

/** Header names whose values hold a reference: they are the credentials of the request. */
export function credentialHeaderNames(headers: Record<string, string>): string[] {
  return Object.entries(headers)
    .filter(([, value]) => new RegExp(REFERENCE.source).test(value))
    .map(([name]) => name.toLowerCase());
}

export function substitute(headers: Record<string, string>, values: ReadonlyMap<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = value.replace(REFERENCE, (ref) => {
      const resolved = values.get(ref);
      if (resolved === undefined) throw new Error(`unresolved reference ${ref}`);
      return resolved;
    });
  }
  return out;
}

/** The hint a task's execution message carries (src/queue/messages.ts): figures and ids only. */
export function executionHint(task: Pick<TaskRow, "headers" | "timeout_s" | "api_key_id">, plan: Plan): ExecutionHint {
  return { plan, timeoutS: task.timeout_s, apiKeyId: task.api_key_id, refs: referencesIn(JSON.parse(task.headers) as Record<string, string>) };
}
