/**
 * A tiny HTTP client for the e2e tests, like curl against the local server. Every response
 * (status, all headers, body text) is recorded so the leak test can search all of them.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, inject } from "vitest";
import { ERROR_CATALOG, isErrorCode } from "../../src/errors";
import type { RecordedRequest } from "../fakes/upstream";

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
  // Every error answer carries a catalogued code, answered with the catalog's status.
  if (response.status >= 400 && method !== "HEAD") {
    const where = `${method} ${path} -> ${response.status} ${text.slice(0, 200)}`;
    const code = (json as { code?: unknown } | undefined)?.code;
    expect(isErrorCode(code) ? ERROR_CATALOG[code].status : `uncatalogued code ${String(code)}`, where).toBe(response.status);
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

// --- Tasks: the fake third-party server (test/fakes/upstream.ts) and task helpers ---

export type { RecordedRequest };

/** The fake third-party APIs on 127.0.0.1 (the same server on `localhost` is another origin). */
export const upstreamUrl = (): string => inject("upstreamUrl");

/** A fresh namespace on the fake server: `${upstreamUrl()}/ns/<id>/...`. */
export function namespace(label = "t"): string {
  return `${label}-${process.pid}-${randomBytes(6).toString("hex")}`;
}

/** The base URL of a namespace. */
export const ns = (id: string): string => `${upstreamUrl()}/ns/${id}`;

/**
 * What the fake server received in a namespace. Read straight from the fake server, not
 * through `request`: these hold the resolved secrets on purpose and are not vault responses.
 */
export async function upstreamRecords(id: string): Promise<RecordedRequest[]> {
  const res = await fetch(`${upstreamUrl()}/__records/${id}`);
  return (await res.json()) as RecordedRequest[];
}

/** Polls the fake server until `predicate` holds for the namespace's records (or the deadline passes). */
export async function waitForRecords(id: string, predicate: (records: RecordedRequest[]) => boolean, timeoutMs = 20_000): Promise<RecordedRequest[]> {
  const deadline = Date.now() + timeoutMs;
  let records = await upstreamRecords(id);
  while (!predicate(records) && Date.now() < deadline) {
    await sleep(200);
    records = await upstreamRecords(id);
  }
  return records;
}

/** A unique secret for one test, to search for everywhere it must not be. */
export const canary = (): string => `sk-e2e-canary-${randomBytes(16).toString("hex")}`;

export async function createToken(key: string, value: string, name = "e2e token"): Promise<string> {
  const res = await request("POST", "/v1/tokens", { key, body: { name, value } });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${res.text}`);
  return res.json.token.id as string;
}

/** POST /v1/tasks; the caller checks the status. */
export function postTask(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Reply> {
  return request("POST", "/v1/tasks", { key, body, headers });
}

/** Creates a task, failing loudly unless the server answers 201. */
export async function createTask(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await postTask(key, body, headers);
  if (res.status !== 201) throw new Error(`task creation failed: ${res.status} ${res.text}`);
  return res.json.task;
}

export const FINAL_STATUSES = ["completed", "failed", "timeout", "cancelled"];

/**
 * Long-polls `GET /v1/tasks/:id?wait=N` (N at most the Pro cap) until the task is final or
 * `timeoutMs` passes; returns the last view.
 */
export async function waitForTask(key: string, id: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const wait = Math.max(1, Math.min(30, Math.ceil((deadline - Date.now()) / 1000)));
    const res = await request("GET", `/v1/tasks/${id}?wait=${wait}`, { key });
    if (res.status !== 200) throw new Error(`GET /v1/tasks/${id} answered ${res.status} ${res.text}`);
    if (FINAL_STATUSES.includes(res.json.task.status) || Date.now() >= deadline) return res.json.task;
  }
}

/** Where `needle` occurs among the responses recorded since `from`, as "METHOD path (body|header name)". */
export function responseHits(needle: string, from = 0): string[] {
  return recorded.slice(from).flatMap((r) => [
    ...(r.text.includes(needle) ? [`${r.method} ${r.path} body`] : []),
    ...r.headers.filter(([name, value]) => name.includes(needle) || value.includes(needle)).map(([name]) => `${r.method} ${r.path} header ${name}`),
  ]);
}

/** The lines of the server's log output that contain `needle`. */
export function logLinesWith(needle: string): string[] {
  return readFileSync(inject("logFile"), "utf8")
    .split("\n")
    .filter((line) => line.includes(needle));
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
