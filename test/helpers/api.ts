import { SELF } from "cloudflare:test";
import type { CreatedTeam } from "../../src/routes/admin";
import { TEST_ADMIN_TOKEN } from "./constants";
import { expectErrorContract } from "./error-contract";

/**
 * Calls the Worker as a client would, through its real fetch handler. Every error answer is
 * checked against the error contract (catalogued code, its status, documented for the route).
 */
export async function call(
  method: string,
  path: string,
  options: { key?: string; admin?: boolean; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.admin) headers.authorization = `Bearer ${TEST_ADMIN_TOKEN}`;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const response = await SELF.fetch(`https://vault.test${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: any = undefined; // eslint-disable-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary shapes
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  // Whatever a test asserts about an error, it also keeps the error contract.
  if (response.status >= 400 && method !== "HEAD") expectErrorContract(method, path, response.status, json);
  return { status: response.status, headers: response.headers, text, json };
}

let counter = 0;

/** A fresh team (the operator endpoint) with its first API key. */
export async function newTeam(plan: "free" | "pro" = "pro"): Promise<CreatedTeam> {
  const res = await call("POST", "/admin/teams", { admin: true, body: { name: `team ${++counter}`, plan } });
  if (res.status !== 201) throw new Error(`team creation failed: ${res.status} ${res.text}`);
  return res.json as CreatedTeam;
}

export async function newToken(key: string, value: string, name = "test token"): Promise<string> {
  const res = await call("POST", "/v1/tokens", { key, body: { name, value } });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${res.text}`);
  return res.json.token.id as string;
}
