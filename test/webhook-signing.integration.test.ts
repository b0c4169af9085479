/**
 * Issue 16: task webhooks signed per Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature: v1,<base64>), both secrets signing during a rotation's grace period, the
 * deprecated X-Signature behind LEGACY_WEBHOOK_SIGNATURE.
 */
import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import type { QueueMessage } from "../src/queue/messages";
import { bytesToBase64 } from "../src/encoding";
import { deliverWebhook } from "../src/webhooks/deliver";
import { rotateWebhookSecret, signingSecrets, webhookSecret } from "../src/webhooks/secret";
import { signingKey, standardHeaders, standardSignature } from "../src/webhooks/signature";
import { call, newTeam } from "./helpers/api";
import { apiKeyContext } from "./helpers/context";
import { upstreamNamespace } from "./helpers/tasks";

/** An independent HMAC over "<id>.<timestamp>.<body>" with the decoded key. */
async function expected(keyBytes: Uint8Array, content: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `v1,${bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(content))))}`;
}

describe("Standard Webhooks signatures", () => {
  const raw = new Uint8Array(32).map((_, i) => i * 7);
  const secret = `whsec_${bytesToBase64(raw)}`;

  it("signs id.timestamp.body with the base64-decoded secret", async () => {
    expect(signingKey(secret)).toEqual(raw);
    const sig = await standardSignature(secret, "msg_1", 1_700_000_000, '{"a":1}');
    expect(sig).toBe(await expected(raw, 'msg_1.1700000000.{"a":1}'));
    expect(sig).not.toBe(await standardSignature(secret, "msg_2", 1_700_000_000, '{"a":1}'));
    expect(sig).not.toBe(await standardSignature(secret, "msg_1", 1_700_000_001, '{"a":1}'));
  });

  it("sends one space-separated signature per secret, the current first", async () => {
    const other = `whsec_${bytesToBase64(new Uint8Array(32).fill(9))}`;
    const headers = await standardHeaders([secret, other], "msg_x", "{}", 42);
    expect(headers["webhook-id"]).toBe("msg_x");
    expect(headers["webhook-timestamp"]).toBe("42");
    expect(headers["webhook-signature"]).toBe(`${await standardSignature(secret, "msg_x", 42, "{}")} ${await standardSignature(other, "msg_x", 42, "{}")}`);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
  });

  it("reads secrets made before (base64url) as the same key bytes", () => {
    const url = `whsec_${bytesToBase64(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")}`;
    expect(signingKey(url)).toEqual(raw);
    expect(() => signingKey("whsec_")).toThrow();
  });
});

describe("webhook secret rotation with a grace period", () => {
  it("new secrets are whsec_<base64 of 32 bytes>", async () => {
    const ctx = await apiKeyContext(await newTeam());
    const { secret, previousSecretExpiresAt } = await webhookSecret(ctx);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(signingKey(secret)).toHaveLength(32);
    expect(previousSecretExpiresAt).toBeNull();
  });

  it("keeps the replaced secret signing until the grace period ends (default 24 h), audited", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const old = (await webhookSecret(ctx)).secret;
    const res = await call("POST", "/v1/webhooks/secret/rotate", { key: team.key });
    expect(res.status).toBe(200);
    const fresh = res.json.secret as string;
    expect(fresh).not.toBe(old);
    const expires = Date.parse(res.json.previousSecretExpiresAt);
    expect(expires - Date.parse(res.json.createdAt)).toBe(24 * 3600 * 1000);
    expect((await call("GET", "/v1/webhooks/secret", { key: team.key })).json).toMatchObject({ secret: fresh, previousSecretExpiresAt: res.json.previousSecretExpiresAt });
    expect(await signingSecrets(ctx)).toEqual({ current: fresh, all: [fresh, old] });
    // Past the grace period only the new one signs.
    expect(await signingSecrets(ctx, expires + 1)).toEqual({ current: fresh, all: [fresh] });
    const audit = (await call("GET", "/v1/audit?action=webhook_secret.rotated", { key: team.key })).json.entries;
    expect(audit[0].metadata).toEqual({ gracePeriodSeconds: 86400 });
    expect(JSON.stringify(audit)).not.toContain(fresh.slice(6));
    expect(JSON.stringify(audit)).not.toContain(old.slice(6));
  });

  it("takes the grace period from the call: 0 ends the old secret at once; a second rotation drops the oldest", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const first = (await webhookSecret(ctx)).secret;
    const second = (await call("POST", "/v1/webhooks/secret/rotate?gracePeriod=600", { key: team.key })).json;
    expect(Date.parse(second.previousSecretExpiresAt) - Date.parse(second.createdAt)).toBe(600_000);
    const third = await rotateWebhookSecret(ctx, 3600);
    expect((await signingSecrets(ctx)).all).toEqual([third.secret, second.secret]);
    expect((await signingSecrets(ctx)).all).not.toContain(first);
    const now = (await call("POST", "/v1/webhooks/secret/rotate?gracePeriod=0", { key: team.key })).json;
    expect(now.previousSecretExpiresAt).toBeNull();
    expect((await signingSecrets(ctx)).all).toEqual([now.secret]);
    for (const bad of ["-1", "604801", "soon"]) {
      const res = await call("POST", `/v1/webhooks/secret/rotate?gracePeriod=${bad}`, { key: team.key });
      expect(res.status, bad).toBe(400);
      expect(res.json.code).toBe("validation_failed");
    }
    expect((await signingSecrets(ctx)).all).toEqual([now.secret]);
  });
});

describe("deliveries", () => {
  async function finishedTaskWithHook(key: string, teamId: string) {
    const up = upstreamNamespace();
    const created = await call("POST", "/v1/tasks", { key, body: { targetUrl: up.url("ok"), onCompleteUrl: up.url("hook"), delay: 600 } });
    const id = created.json.task.id as string;
    await env.DB.prepare("UPDATE tasks SET run_at = ? WHERE id = ?").bind(new Date().toISOString(), id).run();
    const batch = createMessageBatch<QueueMessage>("token-vault-tasks", [{ id: `m-${id}`, timestamp: new Date(), attempts: 1, body: { type: "task.execute", taskId: id, teamId } }]);
    await worker.queue(batch, env);
    await getQueueResult(batch, createExecutionContext());
    return { id, up };
  }

  it("signs with the Standard headers (both secrets during a rotation) and, by default, the legacy X-Signature", async () => {
    const team = await newTeam();
    const ctx = await apiKeyContext(team);
    const old = (await webhookSecret(ctx)).secret;
    const fresh = (await rotateWebhookSecret(ctx)).secret;
    const { id, up } = await finishedTaskWithHook(team.key, team.team.id);
    await deliverWebhook(env, id);
    const hook = (await up.records()).find((r) => r.path === "/hook");
    expect(hook).toBeDefined();
    const h = hook!.headers;
    expect(h["webhook-id"]).toBe(`msg_${id.slice(5)}_1`);
    const content = `${h["webhook-id"]}.${h["webhook-timestamp"]}.${hook!.body}`;
    expect(h["webhook-signature"]).toBe(`${await expected(signingKey(fresh), content)} ${await expected(signingKey(old), content)}`);
    expect(h["x-signature"]).toMatch(new RegExp(`^t=${h["webhook-timestamp"]},v1=[0-9a-f]{64}$`));
  });

  it("leaves X-Signature out when LEGACY_WEBHOOK_SIGNATURE is false", async () => {
    const team = await newTeam();
    const { id, up } = await finishedTaskWithHook(team.key, team.team.id);
    await deliverWebhook({ ...env, LEGACY_WEBHOOK_SIGNATURE: "false" }, id);
    const hook = (await up.records()).find((r) => r.path === "/hook");
    expect(hook?.headers["webhook-signature"]).toMatch(/^v1,\S+$/);
    expect(hook?.headers["x-signature"]).toBeUndefined();
  });
});
