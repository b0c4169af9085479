/**
 * Issue 16: the local stand-in for third-party APIs answers only with ENVIRONMENT=development;
 * in any other mode /_dev/ is an ordinary unknown route (404).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { Env } from "../src/env";
import { call } from "./helpers/api";

async function devFetch(path: string, init: RequestInit = {}, environment = "development") {
  const exec = createExecutionContext();
  const request = new Request(`http://127.0.0.1:8787${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, { ...(env as Env), ENVIRONMENT: environment }, exec);
  await waitOnExecutionContext(exec);
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe("/_dev/ stand-in target", () => {
  it("is a 404 outside development", async () => {
    for (const path of ["/_dev/echo", "/_dev/fal/fal-ai/flux/dev", "/_dev/replicate/v1/predictions"]) {
      const res = await call("POST", path, { body: { prompt: "x" } });
      expect(res.status, path).toBe(404);
      expect(res.json).toEqual({ error: "Not found", code: "not_found" });
    }
    expect((await devFetch("/_dev/echo", {}, "production")).status).toBe(404);
  });

  it("echoes a request in development", async () => {
    const res = await devFetch("/_dev/echo", { method: "POST", headers: { "content-type": "application/json", "x-demo": "1" }, body: '{"hello":"world"}' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ method: "POST", path: "/_dev/echo", body: '{"hello":"world"}', headers: { "x-demo": "1", "content-type": "application/json" } });
  });

  it("walks fal's queue API and Replicate's predictions API to a result", async () => {
    const submit = await devFetch("/_dev/fal/fal-ai/flux/dev", { method: "POST", body: '{"prompt":"a sunset"}' });
    expect(submit.json).toMatchObject({ status: "IN_QUEUE", status_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8787\/_dev\/fal\/requests\/[\w-]+\/status$/) });
    const statusPath = new URL(submit.json.status_url as string).pathname;
    expect((await devFetch(statusPath)).json).toEqual({ status: "COMPLETED" });
    expect((await devFetch(new URL(submit.json.response_url as string).pathname)).json).toMatchObject({ prompt: "a sunset" });

    const prediction = await devFetch("/_dev/replicate/v1/predictions", { method: "POST", body: '{"version":"v","input":{"prompt":"hello"}}' });
    expect(prediction.status).toBe(201);
    const get = new URL((prediction.json.urls as { get: string }).get).pathname;
    expect((await devFetch(get)).json).toMatchObject({ status: "succeeded", output: ["echo: hello"] });
  });
});

describe("/_dev/oauth stand-in provider", () => {
  it("grants consent with a code bound to the PKCE challenge, exchanges it, refreshes dev refresh tokens only", async () => {
    const verifier = "v".repeat(50);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    const challenge = btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const redirect = "http://127.0.0.1:8787/oauth/callback";
    const exec = createExecutionContext();
    const dev = { ...(env as Env), ENVIRONMENT: "development" };
    const authorize = await worker.fetch(new Request(`http://127.0.0.1:8787/_dev/oauth/authorize?response_type=code&client_id=dev&state=s1&code_challenge=${challenge}&code_challenge_method=S256&redirect_uri=${encodeURIComponent(redirect)}`) as Request<unknown, IncomingRequestCfProperties>, dev, exec);
    expect(authorize.status).toBe(302);
    const back = new URL(authorize.headers.get("location")!);
    expect(back.origin + back.pathname).toBe(redirect);
    expect(back.searchParams.get("state")).toBe("s1");
    const token = (form: Record<string, string>) => devFetch("/_dev/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });
    const wrong = await token({ grant_type: "authorization_code", code: back.searchParams.get("code")!, redirect_uri: redirect, code_verifier: "w".repeat(50) });
    expect(wrong).toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    const issued = await token({ grant_type: "authorization_code", code: back.searchParams.get("code")!, redirect_uri: redirect, code_verifier: verifier });
    expect(issued.json).toMatchObject({ access_token: expect.stringMatching(/^dev-at-/), refresh_token: expect.stringMatching(/^dev-rt-/), expires_in: 3600 });
    expect((await token({ grant_type: "refresh_token", refresh_token: issued.json.refresh_token as string })).json).toMatchObject({ access_token: expect.stringMatching(/^dev-at-/) });
    expect((await token({ grant_type: "refresh_token", refresh_token: "other" })).json).toMatchObject({ error: "invalid_grant" });
  });
});
