/**
 * The proxy's two ingress forms (issue 11, section 4):
 *   /proxy/{host}[:port]/{path...}?{query}  -> https://{host}[:port]/{path}?{query}
 *   /s/{service}/{path...}?{query}         -> the named service's host, same path and query
 * The path and query are kept exactly as the client encoded them.
 */
export type Ingress =
  | { form: "proxy"; authority: string; path: string; search: string }
  | { form: "service"; service: string; path: string; search: string };

export const PROXY_PREFIX = "/proxy/";
export const SERVICE_PREFIX = "/s/";

export function isProxyPath(pathname: string): boolean {
  return pathname.startsWith(PROXY_PREFIX) || pathname.startsWith(SERVICE_PREFIX);
}

/** The ingress a request names, or undefined when the host or service is missing. */
export function parseIngress(url: URL): Ingress | undefined {
  const { pathname, search } = url;
  const prefix = pathname.startsWith(PROXY_PREFIX) ? PROXY_PREFIX : pathname.startsWith(SERVICE_PREFIX) ? SERVICE_PREFIX : undefined;
  if (!prefix) return undefined;
  const rest = pathname.slice(prefix.length);
  const slash = rest.indexOf("/");
  const head = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "/" : rest.slice(slash);
  if (head === "") return undefined;
  if (prefix === PROXY_PREFIX) return { form: "proxy", authority: head, path, search };
  try {
    return { form: "service", service: decodeURIComponent(head), path, search };
  } catch {
    return undefined;
  }
}
