import { describe, expect, it } from "vitest";
import { backoffSeconds } from "../src/tasks/model";
import { getPath, renderTemplate, TemplateError } from "../src/tasks/paths";
import { effectivePollConfig, mayForwardCredentials, PROVIDERS } from "../src/tasks/providers";
import { redact } from "../src/outbound/redact";
import { credentialHeaderNames, referencesIn, substitute } from "../src/tasks/references";
import { retryAfterSeconds } from "../src/tasks/decide";
import { checkOutboundUrl } from "../src/outbound/url-policy";
import { signatureHeader, verifySignature } from "../src/webhooks/signature";

const T1 = "tok_01jrx7m2k0000000000000000a";
const T2 = "tok_01jrx7m2k0000000000000000b";

describe("vault references in headers", () => {
  it("finds exact and word references only", () => {
    expect(referencesIn({ Authorization: T1, "X-Other": `Bearer ${T2}`, "Content-Type": "application/json" })).toEqual([T1, T2]);
    expect(referencesIn({ a: `Key ${T1}`, b: `${T1},${T2}` })).toEqual([T1, T2]);
    expect(referencesIn({ a: `x${T1}`, b: `${T1}x`, c: "tok_short", d: `${T1.toUpperCase()}` })).toEqual([]);
    expect(credentialHeaderNames({ Authorization: `Bearer ${T1}`, "Content-Type": "text/plain" })).toEqual(["authorization"]);
  });

  it("substitutes every reference and leaves other headers untouched", () => {
    const values = new Map([[T1, "sk-one"], [T2, "sk-two"]]);
    expect(substitute({ Authorization: `Bearer ${T1}`, "X-Key": T2, "Content-Type": "application/json" }, values)).toEqual({
      Authorization: "Bearer sk-one",
      "X-Key": "sk-two",
      "Content-Type": "application/json",
    });
    expect(() => substitute({ a: T1 }, new Map())).toThrow();
  });

  it("redacts URL-encoded and base64 forms, longest first", () => {
    const secret = "sk-live/abc+def=";
    expect(redact(`q=${encodeURIComponent(secret)}`, [secret])).toBe("q=[REDACTED]");
    expect(redact(btoa(secret), [secret])).toBe("[REDACTED]");
    expect(redact("sk-long-secret-value", ["sk-long", "sk-long-secret-value"])).toBe("[REDACTED]");
  });

  it("redacts echoed secrets, raw and JSON-escaped", () => {
    expect(redact("token=sk-secret-1 and again sk-secret-1", ["sk-secret-1"])).toBe("token=[REDACTED] and again [REDACTED]");
    expect(redact(JSON.stringify({ k: 'a"b\\c-secret' }), ['a"b\\c-secret'])).toBe('{"k":"[REDACTED]"}');
    expect(redact("abc", ["abc"])).toBe("abc"); // too short to redact safely
  });
});

describe("outbound URL policy (SSRF)", () => {
  const refused = [
    "ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)", "http://user:pass@example.com/", "http://user@example.com/",
    "http://localhost/", "http://app.localhost/", "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f000001/",
    "http://0177.0.0.1/", "http://0/", "http://10.0.0.1/", "http://172.16.5.4/", "http://172.31.255.255/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://100.127.255.255/", "http://224.0.0.1/",
    "http://255.255.255.255/", "http://[::1]/", "http://[::]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::]/", "http://[fc00::1]/",
    "http://[fd12:3456::1]/", "http://[fe80::1]/", "http://[ff02::1]/", "http://[::127.0.0.1]/", "http://metadata.google.internal/",
    "http://service.internal/", "http://printer.local/", "http://intranet/", "not a url",
    "http://[::ffff:0:127.0.0.1]/", "http://localhost.localdomain/", "http://kubernetes.default.svc/", "http://127.0.0.1./",
  ];
  it.each(refused)("refuses %s", (url) => {
    expect(checkOutboundUrl(url, false).ok).toBe(false);
  });

  const allowed = ["https://api.openai.com/v1/chat/completions", "https://queue.fal.run/fal-ai/flux/dev", "http://93.184.216.34/", "http://[2606:4700::1111]/", "https://172.32.0.1/", "https://100.128.0.1/"];
  it.each(allowed)("allows %s", (url) => {
    expect(checkOutboundUrl(url, false).ok).toBe(true);
  });

  it("allows private targets only when configured, but never userinfo or other schemes", () => {
    expect(checkOutboundUrl("http://127.0.0.1:8080/", true).ok).toBe(true);
    expect(checkOutboundUrl("http://u:p@127.0.0.1/", true).ok).toBe(false);
    expect(checkOutboundUrl("ftp://127.0.0.1/", true).ok).toBe(false);
  });
});

describe("poll configuration", () => {
  it("lays the caller's fields over a provider template", () => {
    expect(effectivePollConfig("fal", { interval: 7 })).toMatchObject({ ...PROVIDERS.fal!.pollConfig, interval: 7 });
    expect(effectivePollConfig(undefined, undefined)).toBeUndefined();
    expect(effectivePollConfig(undefined, { urlTemplate: "{startResult.body.url}", statusPath: "state", doneValues: ["done"] })).toEqual({
      urlTemplate: "{startResult.body.url}",
      statusPath: "state",
      doneValues: ["done"],
      interval: 5,
      failValues: [],
      forwardAuth: true,
      maxDuration: 3600,
    });
  });

  it("knows the providers' real final states", () => {
    expect(PROVIDERS.fal!.pollConfig.doneValues).toEqual(["COMPLETED"]);
    expect(PROVIDERS.replicate!.pollConfig.doneValues).toEqual(["succeeded"]);
    expect(PROVIDERS.replicate!.pollConfig.failValues).toEqual(["failed", "canceled", "aborted"]);
  });

  it("forwards credentials to the submit origin or the provider's hosts only", () => {
    expect(mayForwardCredentials("https://queue.fal.run/fal-ai/flux", "https://queue.fal.run/x/status", "fal")).toBe(true);
    expect(mayForwardCredentials("https://proxy.example.com/fal", "https://queue.fal.run/x/status", "fal")).toBe(true);
    expect(mayForwardCredentials("https://queue.fal.run/fal-ai/flux", "https://evil.example.com/status", "fal")).toBe(false);
    expect(mayForwardCredentials("https://queue.fal.run/fal-ai/flux", "http://queue.fal.run/status", "fal")).toBe(false);
    expect(mayForwardCredentials("http://127.0.0.1:1/a", "http://localhost:1/b", undefined)).toBe(false);
    expect(mayForwardCredentials("https://api.example.com/a", "https://api.example.com/b", undefined)).toBe(true);
  });

  it("reads paths and renders templates", () => {
    const doc = { body: { status_url: "https://q/s", urls: { get: "https://r/p/1" }, output: ["a", "b"] } };
    expect(getPath(doc, "body.urls.get")).toBe("https://r/p/1");
    expect(getPath(doc, "body.output[1]")).toBe("b");
    expect(getPath(doc, "body.output.0")).toBe("a");
    expect(getPath(doc, "body.__proto__")).toBeUndefined();
    expect(renderTemplate("{startResult.body.status_url}", { startResult: doc })).toBe("https://q/s");
    expect(() => renderTemplate("{startResult.body.missing}", { startResult: doc })).toThrow(TemplateError);
  });
});

describe("retry timing", () => {
  it("backs off exponentially or linearly, capped", () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds("exponential", n))).toEqual([1, 2, 4, 8, 16]);
    expect([1, 2, 3, 4, 5].map((n) => backoffSeconds("linear", n))).toEqual([1, 2, 3, 4, 5]);
    expect(backoffSeconds("exponential", 30)).toBe(3600);
  });

  it("honours Retry-After in seconds or as a date, bounded", () => {
    expect(retryAfterSeconds("5")).toBe(5);
    expect(retryAfterSeconds("0")).toBe(1);
    expect(retryAfterSeconds("999999")).toBe(3600);
    expect(retryAfterSeconds(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThanOrEqual(9);
    expect(retryAfterSeconds("soon")).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});

describe("webhook signatures", () => {
  it("sign t.body with HMAC-SHA256 and verify in constant time", async () => {
    const header = await signatureHeader("whsec_test", '{"event":"task.completed"}', 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(await verifySignature("whsec_test", '{"event":"task.completed"}', header, 300, 1_700_000_000_000)).toBe(true);
    expect(await verifySignature("whsec_other", '{"event":"task.completed"}', header, 300, 1_700_000_000_000)).toBe(false);
    expect(await verifySignature("whsec_test", '{"event":"task.failed"}', header, 300, 1_700_000_000_000)).toBe(false);
    expect(await verifySignature("whsec_test", '{"event":"task.completed"}', header, 300, 1_700_001_000_000)).toBe(false);
  });

  it("matches an independently computed HMAC", async () => {
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode("whsec_k"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("42.{}")));
    const hex = [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(await signatureHeader("whsec_k", "{}", 42)).toBe(`t=42,v1=${hex}`);
  });
});
