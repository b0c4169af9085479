/**
 * The adversarial corpus (issue 9, "Keep the attacks"), generated from the OpenAPI document,
 * which is generated from the route table: a route added to the table is fuzzed without anyone
 * remembering to. Pure TypeScript (no Workers or Node APIs), so the bounded run in the Workers
 * pool (test/adversarial.integration.test.ts) and the large run against the real local server
 * (test/adversarial/run.adversarial.test.ts) share it. Deterministic for a given seed.
 */

export type JsonSchema = { [key: string]: unknown };
export type AuthMode = "none" | "apiKey" | "admin" | "user";

export interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  schema: JsonSchema;
}

/** One operation of the document, as the fuzzer needs it. */
export interface Operation {
  /** "METHOD /path/{param}" as in the document. */
  key: string;
  method: string;
  path: string;
  auth: AuthMode;
  scope?: string;
  params: Parameter[];
  body?: JsonSchema;
}

export const CATEGORIES = [
  "malformed_json",
  "wrong_type",
  "missing_field",
  "extra_field",
  "huge_string",
  "unicode",
  "nul",
  "proto_keys",
  "content_type",
  "oversized_body",
  "odd_method",
  "bad_params",
  "bad_query",
  "bad_headers",
  "aborted_body",
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface FuzzCase {
  category: Category;
  op: string;
  method: string;
  /** Path with query string. */
  path: string;
  headers: Record<string, string>;
  /** Raw body text (sent as UTF-8) or bytes; undefined sends none. */
  body?: string | Uint8Array;
  /** The transport sends the head and part of the body, then breaks the connection. */
  abort?: boolean;
  /** Send the operation's credentials (false: the case is about something before auth). */
  authenticated: boolean;
}

/** Ids for path parameters, by id prefix (tok, task, team, key, usr, inv). */
export type IdProvider = Record<string, string>;

// --- the document ---

interface OpenApiDocument {
  paths: Record<string, Record<string, { security?: Record<string, string[]>[]; "x-required-scope"?: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Every operation of the document, with its auth mode read from its security requirement. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const scheme = Object.keys(op.security?.[0] ?? {})[0];
      const auth: AuthMode = scheme === undefined ? "none" : scheme === "adminToken" ? "admin" : scheme === "sessionToken" ? "user" : "apiKey";
      const body = op.requestBody?.content["application/json"]?.schema;
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        auth,
        scope: op["x-required-scope"],
        params: op.parameters ?? [],
        body: body ? deref(doc, body) : undefined,
      });
    }
  }
  return ops;
}

/** Inlines `$ref`s to components (the fuzzer walks plain schemas). */
function deref(doc: OpenApiDocument, schema: unknown, depth = 0): JsonSchema {
  if (depth > 20 || !schema || typeof schema !== "object") return schema as JsonSchema;
  if (Array.isArray(schema)) return schema.map((s) => deref(doc, s, depth + 1)) as unknown as JsonSchema;
  const ref = (schema as JsonSchema).$ref;
  if (typeof ref === "string") return deref(doc, doc.components?.schemas?.[ref.replace("#/components/schemas/", "")] ?? {}, depth + 1);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, deref(doc, v, depth + 1)]));
}

/** The id prefix a path parameter takes (`^tok_...` -> "tok"), from its pattern. */
export function idPrefixOf(param: Parameter): string | undefined {
  const pattern = param.schema.pattern;
  return typeof pattern === "string" ? /^\^([a-z]+)_/.exec(pattern)?.[1] : undefined;
}

/**
 * What a path parameter is keyed by in a fixture: its id prefix (`tok`), or, for a parameter
 * that is a name rather than an id, the resource before it and its name (`secrets.name` in
 * /vault/secrets/{name}, `credentials.name` in /v1/credentials/{name}).
 */
export function paramKey(op: Operation, param: Parameter): string {
  const prefix = idPrefixOf(param);
  if (prefix) return prefix;
  const segments = op.path.split("/");
  const at = segments.indexOf(`{${param.name}}`);
  return `${segments[at - 1] ?? ""}.${param.name}`;
}

/** The fixture keys an operation's path needs. */
export const pathIdPrefixes = (op: Operation): string[] => op.params.filter((p) => p.in === "path").map((p) => paramKey(op, p));

/** The path with every parameter filled from `ids`; throws naming a parameter without a provider. */
export function concretePath(op: Operation, ids: IdProvider, override: Record<string, string> = {}): string {
  return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    if (override[name] !== undefined) return override[name];
    const param = op.params.find((p) => p.in === "path" && p.name === name);
    const prefix = param && paramKey(op, param);
    const id = prefix ? ids[prefix] : undefined;
    if (!id) throw new Error(`${op.key}: no fixture id provider for {${name}} (prefix ${prefix ?? "unknown"})`);
    return id;
  });
}

// --- deterministic randomness ---

export type Rng = () => number;

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function rngFrom(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

// --- values ---

/** A plausible valid value for a schema (the base that single-field mutations start from). */
export function exampleFor(schema: JsonSchema, name = "", marker = "fuzz"): unknown {
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (variants?.[0]) return exampleFor(variants[0], name, marker);
  switch (schema.type) {
    case "object": {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      return Object.fromEntries(Object.entries(props).filter(([k]) => required.has(k)).map(([k, s]) => [k, exampleFor(s, k, marker)]));
    }
    case "array": {
      const min = Number(schema.minItems ?? 0);
      return Array.from({ length: Math.max(min, 1) }, () => exampleFor((schema.items ?? {}) as JsonSchema, name, marker));
    }
    case "integer":
    case "number":
      return Number(schema.minimum ?? 1) > 1 ? Number(schema.minimum) : 1;
    case "boolean":
      return true;
    case "string": {
      if (schema.format === "email" || /email/i.test(name)) return `${marker}-${name}@fuzz.invalid`;
      if (schema.format === "date-time") return new Date(Date.now() + 3_600_000).toISOString();
      if (/url|template/i.test(name)) return "https://api.example.com/fuzz";
      if (/password/i.test(name)) return "fuzz-password-0123456789";
      const min = Number(schema.minLength ?? 1);
      return `${marker}-${name || "value"}`.padEnd(min, "x").slice(0, Number(schema.maxLength ?? 10_000));
    }
    default:
      return `${marker}-${name}`;
  }
}

/** A value of another JSON type than the schema's (and some of the classic confusions). */
function wrongTypesFor(schema: JsonSchema): unknown[] {
  const all: Record<string, unknown[]> = {
    string: ["", "1", "true", "null"],
    number: [1, -1, 0.5, 1e308, -0],
    boolean: [true, false],
    null: [null],
    array: [[], ["x"], [{}]],
    object: [{}, { a: 1 }],
  };
  const type = String(schema.type ?? "");
  const same = type === "integer" ? "number" : type;
  const out = Object.entries(all)
    .filter(([t]) => t !== same)
    .flatMap(([, v]) => v);
  if (type === "integer") out.push(1.5, 2 ** 53 + 2, -(2 ** 31));
  if (type === "string" && Array.isArray(schema.enum)) out.push("NOT_A_MEMBER", String(schema.enum[0]).toUpperCase() + " ");
  return out;
}

const UNICODE_STRINGS = [
  "\ud800", // lone high surrogate
  "\udfff", // lone low surrogate
  "a\ud83d", // a surrogate pair cut in half
  "\u202eevil\u202c", // right-to-left override
  "zero\u200bwidth\ufeff",
  "e\u0301\u0301\u0301\u0301", // stacked combining marks
  "😀".repeat(64),
  "ｆｕｌｌｗｉｄｔｈ",
  "\u0085next-line\u2028line-sep\u2029",
  "İıſK", // case-mapping surprises
];

function jsonStringWithLoneSurrogate(): string {
  // JSON.stringify escapes lone surrogates; the raw escape is what a hostile client sends.
  return '"\\ud800x"';
}

// --- the cases ---

const ODD_METHODS = ["PUT", "PATCH", "DELETE", "OPTIONS", "POST", "GET", "TRACE", "PROPFIND", "FOO"];
const CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "", "application/jsonx", "application/json; charset=utf-16", "text/json", "application/xml"];
const BAD_IDS = ["x", "tok_", "TOK_01JRX7M2K0000000000000000A", "tok_01jrx7m2k0000000000000000a0", "..%2F..%2Fadmin", "%00", "%E2%80%AE", "%F0%9F%98%80", "a".repeat(300), "null", "undefined", "__proto__", "constructor", "1%20OR%201=1"];
const BAD_QUERY_VALUES = ["-1", "abc", "1e9", "0x10", "9".repeat(30), "", "%00", "%FF", "1.5", "NaN", "Infinity", "__proto__", "a".repeat(2000)];

/** The generic body cases for an operation with a body (mutations of a plausible body). */
function bodyCases(op: Operation, rng: Rng, variants: number, marker: string): Omit<FuzzCase, "op" | "method" | "path" | "authenticated">[] {
  const schema = op.body!;
  const base = exampleFor(schema, "", marker) as Record<string, unknown>;
  const props = Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>);
  const json = (value: unknown) => ({ headers: { "content-type": "application/json" }, body: JSON.stringify(value) });
  const raw = (body: string | Uint8Array) => ({ headers: { "content-type": "application/json" }, body });
  const out: Omit<FuzzCase, "op" | "method" | "path" | "authenticated">[] = [];
  const add = (category: Category, c: { headers: Record<string, string>; body?: string | Uint8Array; abort?: boolean }) => out.push({ category, ...c });

  for (const text of ["{", '{"a":}', "[", "nul", "{}x", "{'a':1}", '{"a":1,}', "\ufeff{}", " ", "[[[[[[[[[[", "[".repeat(5000) + "]".repeat(5000), "{".repeat(3000), "1", '"str"', "null", "[]", "true", '{"a":1}{"b":2}', "\u0000{}"]) {
    add("malformed_json", raw(text));
  }
  add("malformed_json", raw(new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]))); // invalid UTF-8
  add("malformed_json", raw(new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]))); // UTF-16 with BOM

  for (const [name, fieldSchema] of props) {
    const types = wrongTypesFor(fieldSchema);
    for (let i = 0; i < Math.min(types.length, 2 + variants); i++) add("wrong_type", json({ ...base, [name]: types[(i * 7 + Math.floor(rng() * types.length)) % types.length] }));
    const maxLength = Number(fieldSchema.maxLength ?? 0);
    if (fieldSchema.type === "string") {
      add("huge_string", json({ ...base, [name]: "x".repeat((maxLength || 10_000) + 1) }));
      if (maxLength) add("huge_string", json({ ...base, [name]: "é".repeat(Math.floor(maxLength / 2) + 1) }));
      for (let i = 0; i < 1 + variants; i++) add("unicode", json({ ...base, [name]: pick(rng, UNICODE_STRINGS) }));
      add("unicode", raw(JSON.stringify(base).replace(/^\{/, `{"${name}":${jsonStringWithLoneSurrogate()},`)));
      add("nul", json({ ...base, [name]: `a\u0000b` }));
      add("nul", json({ ...base, [name]: "\u0000" }));
    }
    if (fieldSchema.type === "integer" || fieldSchema.type === "number") {
      for (const n of [Number(fieldSchema.maximum ?? 1e9) + 1, Number(fieldSchema.minimum ?? -1e9) - 1]) {
        if (Number.isFinite(n)) add("huge_string", json({ ...base, [name]: n }));
      }
      add("huge_string", raw(JSON.stringify(base).replace(/^\{/, `{"${name}":1e999,`)));
    }
    if (((schema.required ?? []) as string[]).includes(name)) {
      const { [name]: _dropped, ...rest } = base;
      add("missing_field", json(rest));
    }
    if (fieldSchema.type === "object") {
      add("proto_keys", raw(JSON.stringify(base).replace(/^\{/, `{"${name}":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}},`)));
    }
  }
  add("missing_field", json({}));
  add("extra_field", json({ ...base, unexpected: 1 }));
  add("extra_field", json({ ...base, [`x${"y".repeat(300)}`]: "z" }));
  for (const key of ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"]) {
    add("proto_keys", raw(JSON.stringify(base).replace(/^\{/, `{"${key}":{"polluted":"yes","admin":true},`)));
  }
  add("proto_keys", raw('{"__proto__":{"__proto__":{"polluted":"yes"}}}'));
  add("proto_keys", json([base]));

  for (const type of CONTENT_TYPES) add("content_type", { headers: type ? { "content-type": type } : {}, body: JSON.stringify(base) });
  add("content_type", { headers: { "content-type": "application/json" } });

  add("oversized_body", json({ ...base, pad: "x".repeat(512 * 1024 + 1) }));

  add("aborted_body", { headers: { "content-type": "application/json" }, body: JSON.stringify(base).slice(0, 12), abort: true });
  return out;
}

/**
 * The corpus for one operation: `variants` scales the randomised parts (1 for the bounded run
 * in `npm test`, more for the large run). `ids` fills the path; `marker` tags created names.
 */
export function casesFor(
  op: Operation,
  ids: IdProvider,
  options: { seed: number; variants: number; marker?: string; maxPerCategory?: number; sendable?: (c: FuzzCase) => boolean },
): FuzzCase[] {
  // What the transport cannot send is left out before sampling, so every category stays.
  const all = allCasesFor(op, ids, options).filter(options.sendable ?? (() => true));
  if (options.maxPerCategory === undefined) return all;
  // A deterministic sample: every category kept, at most maxPerCategory of each.
  const rng = rngFrom(options.seed ^ 0x5bd1e995);
  const shuffled = all.map((c) => [rng(), c] as const).sort((x, y) => x[0] - y[0]).map(([, c]) => c);
  const kept = new Map<Category, number>();
  return shuffled.filter((c) => {
    const n = kept.get(c.category) ?? 0;
    kept.set(c.category, n + 1);
    return n < options.maxPerCategory!;
  });
}

function allCasesFor(op: Operation, ids: IdProvider, options: { seed: number; variants: number; marker?: string }): FuzzCase[] {
  const rng = rngFrom(options.seed);
  const marker = options.marker ?? "fuzz";
  const path = concretePath(op, ids);
  const out: FuzzCase[] = [];
  const push = (c: Omit<FuzzCase, "op">) => out.push({ op: op.key, ...c });

  if (op.body) {
    for (const c of bodyCases(op, rng, options.variants, marker)) push({ ...c, method: op.method, path, authenticated: true });
  } else {
    // A body on a route that takes none is ignored, whatever it is.
    push({ category: "content_type", method: op.method, path, headers: { "content-type": "text/plain" }, body: "{", authenticated: true });
  }
  for (const method of ODD_METHODS.filter((m) => m !== op.method)) {
    push({ category: "odd_method", method, path, headers: {}, authenticated: true });
  }
  for (const param of op.params.filter((p) => p.in === "path")) {
    for (let i = 0; i < Math.min(BAD_IDS.length, 3 + options.variants * 2); i++) {
      const bad = BAD_IDS[(i + Math.floor(rng() * BAD_IDS.length)) % BAD_IDS.length]!;
      push({ category: "bad_params", method: op.method, path: concretePath(op, ids, { [param.name]: bad }), headers: op.body ? { "content-type": "application/json" } : {}, body: op.body ? "{}" : undefined, authenticated: true });
    }
    // Another kind's id in the right place.
    const other = Object.entries(ids).find(([prefix]) => prefix !== paramKey(op, param))?.[1];
    if (other) push({ category: "bad_params", method: op.method, path: concretePath(op, ids, { [param.name]: other }), headers: {}, authenticated: true });
  }
  const queryParams = op.params.filter((p) => p.in === "query");
  for (const param of queryParams) {
    for (let i = 0; i < Math.min(BAD_QUERY_VALUES.length, 3 + options.variants * 2); i++) {
      const value = BAD_QUERY_VALUES[(i + Math.floor(rng() * BAD_QUERY_VALUES.length)) % BAD_QUERY_VALUES.length]!;
      const method = op.method;
      // Long-polls wait for real: keep `wait` values that could be accepted small.
      const safe = param.name === "wait" && Number.isFinite(Number(value)) && Number(value) <= 1000 ? "0" : value;
      push({ category: "bad_query", method, path: `${path}?${param.name}=${safe.startsWith("%") ? safe : encodeURIComponent(safe)}`, headers: {}, authenticated: true });
    }
    push({ category: "bad_query", method: op.method, path: `${path}?${param.name}=1&${param.name}=2`, headers: {}, authenticated: true });
  }
  if (!op.body && op.method === "GET") push({ category: "bad_query", method: op.method, path: `${path}?__proto__[x]=1&constructor=1&unknown=%00`, headers: {}, authenticated: true });
  for (const param of op.params.filter((p) => p.in === "header")) {
    for (const value of ["x".repeat(300), "", " ", "a\tb"]) push({ category: "bad_headers", method: op.method, path, headers: { [param.name]: value, ...(op.body ? { "content-type": "application/json" } : {}) }, body: op.body ? "{}" : undefined, authenticated: true });
  }
  if (op.auth !== "none") {
    for (const value of ["Bearer", "Bearer  ", `Bearer ${"A".repeat(8000)}`, "Bearer tok_01jrx7m2k0000000000000000a", "bearer tvk_", "Basic Og==", "Bearer tvk_01jrx7m2k0000000000000000a" + "Z".repeat(49)]) {
      push({ category: "bad_headers", method: op.method, path, headers: { authorization: value }, authenticated: false });
    }
  }
  return out;
}

/** The JSON shape every error answer has: a catalogued code answered with its status. */
export function errorContractProblem(status: number, text: string, catalog: Record<string, { status: number }>): string | undefined {
  if (status < 400) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return "error body is not JSON";
  }
  const { error, code } = (body ?? {}) as { error?: unknown; code?: unknown };
  if (typeof error !== "string") return "error body has no `error` text";
  if (typeof code !== "string" || !Object.hasOwn(catalog, code)) return `uncatalogued code ${String(code)}`;
  if (catalog[code]!.status !== status) return `code ${code} answered with ${status}, catalog says ${catalog[code]!.status}`;
  return undefined;
}
