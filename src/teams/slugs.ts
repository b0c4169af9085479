import { bytesToBase64Url } from "../encoding";

/**
 * Vault slugs (issue 11): 3-64 characters, lowercase letters and digits in runs joined by single
 * hyphens. A new team's slug comes from its name; a taken or too short one gets a random suffix.
 */
export const SLUG_PATTERN = /^(?=.{3,64}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;

export function slugFromName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/g, "");
}

function withSuffix(base: string): string {
  const suffix = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(6))).toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, 6).padEnd(6, "0");
  const head = base.slice(0, 64 - suffix.length - 1).replace(/-+$/g, "");
  return head ? `${head}-${suffix}` : `vault-${suffix}`;
}

/** The slug to take for a new team named `name`, and a fallback should it be taken meanwhile. */
export async function slugCandidates(db: D1Database, name: string): Promise<{ chosen: string; fallback: string }> {
  const base = slugFromName(name);
  const fallback = withSuffix(base);
  if (!SLUG_PATTERN.test(base)) return { chosen: fallback, fallback: withSuffix(base) };
  const taken = await db.prepare("SELECT 1 FROM teams WHERE slug = ?").bind(base).first();
  return taken ? { chosen: fallback, fallback: withSuffix(base) } : { chosen: base, fallback };
}
