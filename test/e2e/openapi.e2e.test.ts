/**
 * The OpenAPI document as the tools people feed it to see it: fetched from the real local
 * server, linted by Redocly's linter (recommended rules) and turned into TypeScript types by
 * openapi-typescript, which are then compiled against a few uses. Nothing here needs the network.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { ERROR_CATALOG, ERROR_CODES } from "../../src/errors";
import { request } from "./helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document is read as plain JSON
let doc: any;
let text: string;

beforeAll(async () => {
  const res = await request("GET", "/openapi.json");
  expect(res.status).toBe(200);
  doc = res.json;
  text = res.text;
});

/**
 * Warnings of the recommended rules this document keeps on purpose. `info-license`: the project
 * has not chosen a license yet. `operation-4xx-response`: the three service routes (health,
 * this document, provider templates) take no input and no credentials, so no 4xx is theirs.
 * `no-unused-components`: the answers to unknown paths and unserved methods belong to no
 * operation, so nothing can reference them; they are documented for clients all the same.
 */
const ACCEPTED_WARNINGS: Record<string, string[]> = {
  "info-license": ["#/info"],
  "no-unused-components": ["#/components/responses/NotFound", "#/components/responses/MethodNotAllowed"],
  // The OAuth redirect URI answers the browser with a redirect (303) to the completion page, by design.
  "operation-2xx-response": ["#/paths/~1oauth~1callback/get/responses"],
  "operation-4xx-response": ["#/paths/~1healthz/get/responses", "#/paths/~1openapi.json/get/responses", "#/paths/~1v1~1providers/get/responses"],
};

describe("the OpenAPI document", () => {
  it("passes Redocly's recommended lint rules", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: text, absoluteRef: "openapi.json", config });
    const report = problems.map((p) => ({ rule: p.ruleId, severity: p.severity, message: p.message, where: p.location.map((l) => l.pointer).join(" ") }));
    expect(report.filter((p) => p.severity === "error"), JSON.stringify(report, null, 2)).toEqual([]);
    const unexpected = report.filter((p) => !(ACCEPTED_WARNINGS[p.rule] ?? []).includes(p.where));
    expect(unexpected, JSON.stringify(unexpected, null, 2)).toEqual([]);
  });

  it("generates TypeScript types with openapi-typescript that compile and carry the error codes", async () => {
    const types = astToString(await openapiTS(doc));
    const dir = mkdtempSync(join(tmpdir(), "token-vault-openapi-"));
    try {
      writeFileSync(join(dir, "api.d.ts"), types);
      // Uses a client would make: if the document lost a shape, these stop compiling.
      writeFileSync(
        join(dir, "use.ts"),
        [
          'import type { components, paths } from "./api";',
          'type Json<R> = R extends { content: { "application/json": infer B } } ? B : never;',
          'type Res<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends { responses: infer R } ? (S extends keyof R ? Json<R[S]> : never) : never;',
          'export const missingKey: Res<"/v1/tokens", "post", 401> = { error: "API key required", code: "api_key_required" };',
          'export const limited: Res<"/v1/tokens", "post", 429>["code"] = "rate_limited";',
          'export const conflict: Res<"/v1/tasks/{id}/cancel", "post", 409>["code"] = "task_not_cancellable";',
          'export const code: components["schemas"]["Error"]["code"] = "internal_error";',
          'export const token: Res<"/v1/tokens", "post", 201> = { token: { id: "tok_x", name: "n", createdAt: "2025-01-01T00:00:00Z" } };',
          'export const idempotency: paths["/v1/tasks"]["post"]["parameters"]["header"] = { "Idempotency-Key": "k" };',
          '// @ts-expect-error a code the route cannot answer with',
          'export const wrong: Res<"/v1/tokens", "post", 401>["code"] = "not_found";',
          "",
        ].join("\n"),
      );
      const program = ts.createProgram([join(dir, "use.ts")], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, moduleResolution: ts.ModuleResolutionKind.Bundler, skipLibCheck: false, types: [] });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names every error code of the catalog, each under its status", () => {
    const seen = new Map<string, Set<string>>();
    const visit = (responses: Record<string, { content?: { "application/json"?: { schema?: { allOf?: { properties?: { code?: { enum?: string[] } } }[] } } } }>) => {
      for (const [status, response] of Object.entries(responses)) {
        for (const code of response.content?.["application/json"]?.schema?.allOf?.[1]?.properties?.code?.enum ?? []) {
          seen.set(code, (seen.get(code) ?? new Set()).add(status));
        }
      }
    };
    for (const item of Object.values(doc.paths) as Record<string, { responses: Parameters<typeof visit>[0] }>[]) {
      for (const operation of Object.values(item)) visit(operation.responses);
    }
    visit({ "404": doc.components.responses.NotFound, "405": doc.components.responses.MethodNotAllowed });
    // The proxy's refusals (served outside the route table, described under x-proxy).
    visit(doc["x-proxy"].responses);
    expect([...seen.keys()].sort()).toEqual([...ERROR_CODES].sort());
    for (const [code, statuses] of seen) expect([...statuses], code).toEqual([String(ERROR_CATALOG[code as keyof typeof ERROR_CATALOG].status)]);
    expect(doc.components.schemas.Error.properties.code.enum).toEqual(ERROR_CODES);
  });
});
