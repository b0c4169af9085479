import { describe, expect, it } from "vitest";
import { safeNext } from "../src/portal/app";
import { escapeHtml, html, trusted } from "../src/portal/html";
import { isPlainLocalhost, setCookie } from "../src/portal/session";

describe("portal html", () => {
  it("escapes every interpolation unless it is markup", () => {
    const name = `<img src=x onerror=alert(1)>"'&\``;
    expect(html`<td title="${name}">${name}</td>`.value).toBe(
      "<td title=\"&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&#96;\">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;&#96;</td>",
    );
    expect(html`<p>${html`<b>${name}</b>`}</p>`.value).toBe(`<p><b>${escapeHtml(name)}</b></p>`);
    expect(html`${[1, "<", null, undefined, false, trusted("<br>")]}`.value).toBe("1&lt;<br>");
  });
});

describe("portal next and cookies", () => {
  it("follows next only to a local portal path", () => {
    expect(safeNext("/portal/keys?x=1")).toBe("/portal/keys?x=1");
    expect(safeNext("/portal")).toBe("/portal");
    for (const bad of [null, "", "https://evil.example/portal", "//evil.example/portal", "/\\evil.example", "/portal\\..", "/portal/../admin", "/portalx", "/v1/tokens", " /portal", "javascript:alert(1)", "/portal//evil"]) {
      expect([bad, safeNext(bad)]).toEqual([bad, "/portal/vault"]);
    }
  });

  it("sets Secure everywhere but plain-http localhost", () => {
    expect(isPlainLocalhost(new URL("http://127.0.0.1:8787/"))).toBe(true);
    expect(isPlainLocalhost(new URL("http://localhost/"))).toBe(true);
    expect(isPlainLocalhost(new URL("https://localhost/"))).toBe(false);
    expect(isPlainLocalhost(new URL("http://vault.example/"))).toBe(false);
    expect(setCookie(new URL("http://vault.example/"), "__Host-x", "v", 10)).toBe("__Host-x=v; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=10");
    expect(setCookie(new URL("http://localhost:8787/"), "x", "v", undefined)).toBe("x=v; Path=/; HttpOnly; SameSite=Strict");
  });
});
