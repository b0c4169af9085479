import { log } from "../log";
import { parseHostPattern } from "./host-pattern";
import type { ServiceAuth, ServiceRule } from "./types";

/** The columns of a `services` row that matching needs. */
export interface ServiceRuleRow {
  name: string;
  host: string;
  enabled: number;
  auth: string;
  position: number;
}

/**
 * A stored service ready for matching. A row that no longer parses (written under another
 * policy, e.g. a loopback host after the switch was turned off) matches nothing, loudly.
 */
export function serviceRule(teamId: string, row: ServiceRuleRow, allowLoopback: boolean): ServiceRule[] {
  const verdict = parseHostPattern(row.host, allowLoopback);
  let auth: ServiceAuth | undefined;
  try {
    auth = JSON.parse(row.auth) as ServiceAuth;
  } catch {
    auth = undefined;
  }
  if (!verdict.ok || !auth || typeof auth !== "object" || typeof auth.type !== "string") {
    log.warn("gateway_service_skipped", { teamId, service: row.name, reason: verdict.ok ? "unreadable auth" : verdict.reason });
    return [];
  }
  return [{ name: row.name, host: row.host, enabled: row.enabled === 1, auth, pattern: verdict.pattern, position: row.position }];
}
