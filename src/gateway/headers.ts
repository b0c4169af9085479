import { AppError } from "../errors";
import { isSendableHeaderValue } from "../vault/values";
import { carriesVaultKey } from "./agent-key";
import { TEMPLATE_PLACEHOLDER, type ServiceAuth } from "./types";

/**
 * The headers of a proxied exchange, both ways. Upstream: the client's headers minus
 * hop-by-hop ones (RFC 9110 7.6.1, and any the Connection header names), the vault's own
 * (`Proxy-Authorization`, `X-Vault-*`), the platform's (`cf-*`, `Host`) and any header carrying
 * a vault key; then the service's credential, which wins over whatever the client sent under the
 * same name. Downstream: the upstream's headers minus hop-by-hop ones and `Set-Cookie` (a
 * session the upstream opens belongs to the vault's credential, not to the agent).
 */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"]);

function droppedByConnection(headers: Headers): Set<string> {
  return new Set((headers.get("connection") ?? "").split(",").map((t) => t.trim().toLowerCase()).filter(Boolean));
}

export function upstreamHeaders(incoming: Headers, agentKey: string): Headers {
  const named = droppedByConnection(incoming);
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || named.has(name) || name === "host" || name.startsWith("x-vault-") || name.startsWith("cf-")) continue;
    if (carriesVaultKey(value, agentKey)) continue;
    out.append(name, value);
  }
  return out;
}

export function downstreamHeaders(upstream: Headers): Headers {
  const named = droppedByConnection(upstream);
  const out = new Headers();
  for (const [name, value] of upstream) {
    if (HOP_BY_HOP.has(name) || named.has(name) || name === "set-cookie") continue;
    out.append(name, value);
  }
  // The runtime's fetch has decoded a compressed body already, and would re-encode it by this
  // header whatever the client accepts (the Worker sees a normalised Accept-Encoding, not the
  // client's): the body goes out as identity, and the platform compresses it for clients that
  // ask. Its length then differs from the upstream's.
  if (out.has("content-encoding")) {
    out.delete("content-encoding");
    out.delete("content-length");
  }
  return out;
}

/** The headers a service's auth injects, from the values of the KEYs it names. */
export function authHeaders(auth: ServiceAuth, values: ReadonlyMap<string, string>): [string, string][] {
  const v = (key: string) => values.get(key) ?? "";
  switch (auth.type) {
    case "bearer":
      return [["authorization", `Bearer ${v(auth.token)}`]];
    case "basic":
      return [["authorization", `Basic ${btoa(`${v(auth.username)}:${v(auth.password)}`)}`]];
    case "api-key":
      return [[auth.header || "authorization", `${auth.prefix ?? ""}${v(auth.key)}`]];
    case "custom":
      return Object.entries(auth.headers).map(([name, template]) => [name, template.replace(TEMPLATE_PLACEHOLDER, (_m, key: string) => v(key))]);
    case "passthrough":
      return [];
  }
}

/** Sets the injected headers over the client's (case-insensitively: the injected one wins). */
export function inject(headers: Headers, injected: [string, string][]): void {
  for (const [name, value] of injected) {
    // Values were checked when stored; a value that cannot be sent fails here without naming it.
    if (!isSendableHeaderValue(value)) throw new AppError("upstream_error", "The credential cannot be sent in a header", {}, { internal: `header ${name}: value not sendable` });
    try {
      headers.set(name, value);
    } catch (error) {
      throw new AppError("upstream_error", "The service's header cannot be sent", {}, { internal: `header ${name}: ${error instanceof Error ? error.name : "invalid"}` });
    }
  }
}
