import { describe, expect, it } from "vitest";
import { routes } from "../src/routes";
import { call } from "./helpers/api";

describe("GET /openapi.json", () => {
  it("documents every route from the same zod schemas, as OpenAPI 3.1", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe("3.1.0");
    for (const route of routes) {
      const path = route.path.replace(/:(\w+)/g, "{$1}");
      expect(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path}`).toBeDefined();
    }
    const create = doc.paths["/v1/tokens"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(body.required).toEqual(["name", "value"]);
    expect(body.properties.name).toMatchObject({ type: "string", minLength: 1, maxLength: 100 });
    expect(body.additionalProperties).toBe(false);
    expect(create.responses["201"].content["application/json"].schema.properties.token).toBeDefined();
    expect(create.responses["401"]).toBeDefined();
    expect(create.responses["429"]).toBeDefined();
    expect(doc.components.securitySchemes.headerApiKey).toEqual({ type: "apiKey", in: "header", name: "X-API-Key" });
    expect(doc.paths["/v1/tokens/{id}"].get.parameters[0]).toMatchObject({ name: "id", in: "path", required: true });
    // The shared Error schema is the schema itself, not a reference to itself.
    expect(doc.components.schemas.Error).toMatchObject({ type: "object", required: ["error", "code"] });
    expect(doc.components.schemas.Error.$ref).toBeUndefined();
    // Idempotency-Key is a documented header parameter; timestamps say date-time.
    expect(doc.paths["/v1/tasks"].post.parameters).toContainEqual(expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false }));
    expect(doc.components.schemas.Token.properties.createdAt).toMatchObject({ type: "string", format: "date-time" });
    // Error answers name their codes and headers.
    const denied = doc.paths["/v1/tokens/{id}"].get.responses["403"];
    expect(denied.content["application/json"].schema.allOf[1].properties.code.enum).toEqual(["insufficient_scope", "access_denied"]);
    expect(Object.keys(doc.paths["/v1/tokens"].post.responses["429"].headers)).toEqual(["X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"]);
    expect(doc.components.responses.MethodNotAllowed.headers.Allow).toEqual({ $ref: "#/components/headers/Allow" });
    // Every $ref resolves inside the document (schemas, and the shared response headers).
    for (const ref of res.text.match(/"\$ref":"([^"]+)"/g) ?? []) {
      const pointer = ref.slice('"$ref":"#/'.length, -1).split("/");
      expect(pointer.slice(0, 1), ref).toEqual(["components"]);
      expect(pointer.reduce((node, key) => node?.[key], doc), ref).toBeDefined();
    }
  });
});
