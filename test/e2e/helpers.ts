/**
 * A tiny HTTP client for the e2e tests, like curl against the local server. Every response
 * (status, all headers, body text) is recorded so the leak test can search all of them.
 */
import { inject } from "vitest";

export interface Recorded {
  method: string;
  path: string;
  status: number;
  headers: [string, string][];
  text: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions read arbitrary JSON shapes
  json: any;
}

export interface RequestOptions {
  /** API key sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** Send the operator's ADMIN_TOKEN instead. */
  admin?: boolean;
  /** An object is sent as JSON; a string is sent as-is (for malformed bodies). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Everything the server answered during this test file (each file runs in its own module graph). */
export const recorded: Recorded[] = [];

export const baseUrl = (): string => inject("baseUrl");

export async function request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.admin) headers.authorization = `Bearer ${inject("adminToken")}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  Object.assign(headers, options.headers);
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const response = await fetch(baseUrl() + path, { method, headers, body });
  const text = await response.text();
  recorded.push({ method, path, status: response.status, headers: [...response.headers], text });
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export interface CreatedTeam {
  team: { id: string; name: string; plan: "free" | "pro"; createdAt: string };
  apiKey: { id: string; name: string; prefix: string; createdAt: string };
  key: string;
}

let teams = 0;

/** A fresh team through the operator endpoint, with its first (full) API key. */
export async function createTeam(plan: "free" | "pro" = "free"): Promise<CreatedTeam> {
  const res = await request("POST", "/admin/teams", { admin: true, body: { name: `e2e team ${++teams} ${Date.now()}`, plan } });
  if (res.status !== 201) throw new Error(`team creation failed: ${res.status} ${res.text}`);
  return res.json as CreatedTeam;
}
