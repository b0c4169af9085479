import { bytesToBase64, bytesToHex, utf8 } from "../encoding";

/**
 * The portal's only stylesheet and script, served by the Worker as files under a content-hashed
 * name (cached for a year, immutable) and referenced with Subresource Integrity. There is no
 * inline script or style anywhere: the CSP allows 'self' only.
 */
const CSS = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#111827;background:#f9fafb}
body{margin:0}
a{color:#1d4ed8}
a:hover{color:#1e3a8a}
:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}
.skip:focus{left:.5rem;z-index:10}
header.top{background:#111827;color:#f9fafb;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center}
header.top a{color:#f9fafb}
header.top .brand{font-weight:700;text-decoration:none;margin-right:auto}
header.top form{display:flex;gap:.25rem;align-items:center;margin:0}
header.top label{font-size:.875rem}
header.top select,header.top button{font-size:.875rem;padding:.2rem .4rem}
nav.main{background:#e5e7eb;padding:0 .5rem;display:flex;flex-wrap:wrap}
nav.main a{display:inline-block;padding:.6rem .7rem;text-decoration:none;color:#111827}
nav.main a[aria-current=page]{font-weight:700;border-bottom:3px solid #1d4ed8}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.card{background:#fff;border:1px solid #d1d5db;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
.narrow{max-width:28rem;margin:2rem auto}
.field{margin:0 0 .9rem}
.field label,.field legend{display:block;font-weight:600;margin-bottom:.25rem}
.field .hint{display:block;font-size:.875rem;color:#4b5563}
.field fieldset{border:0;padding:0;margin:0}
.checks{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.checks label{font-weight:400;display:inline-flex;gap:.3rem;align-items:center}
input[type=text],input[type=email],input[type=password],input[type=search],input[type=datetime-local],select,textarea{width:100%;max-width:32rem;padding:.45rem .5rem;border:1px solid #6b7280;border-radius:.3rem;font:inherit;background:#fff;color:#111827}
input[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b91c1c}
.error{color:#b91c1c;font-size:.9rem;margin:.2rem 0 0}
.notice{background:#ecfdf5;border:1px solid #047857;color:#065f46;padding:.6rem .8rem;border-radius:.3rem;margin:0 0 1rem}
.alert{background:#fef2f2;border:1px solid #b91c1c;color:#7f1d1d;padding:.6rem .8rem;border-radius:.3rem;margin:0 0 1rem}
.warning{background:#fffbeb;border:1px solid #b45309;color:#78350f;padding:.6rem .8rem;border-radius:.3rem;margin:0 0 1rem}
button,.button{display:inline-block;font:inherit;padding:.45rem .9rem;border-radius:.3rem;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer;text-decoration:none}
button:hover,.button:hover{background:#1e40af;color:#fff}
button.secondary,.button.secondary{background:#fff;color:#1d4ed8}
button.danger,.button.danger{background:#b91c1c;border-color:#b91c1c;color:#fff}
button.link{background:none;border:0;color:#1d4ed8;padding:0;text-decoration:underline}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.actions form{margin:0}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.925rem}
th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #e5e7eb;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td code,p code{font-size:.85rem;word-break:break-all}
.badge{display:inline-block;font-size:.75rem;padding:.05rem .45rem;border-radius:999px;border:1px solid #6b7280;color:#374151;background:#fff;white-space:nowrap}
.badge.bad{border-color:#b91c1c;color:#991b1b;background:#fef2f2}
.badge.good{border-color:#047857;color:#065f46;background:#ecfdf5}
.muted{color:#4b5563}
.secret-once{display:block;padding:.6rem;background:#111827;color:#f9fafb;border-radius:.3rem;word-break:break-all;font-size:.95rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1.25rem;margin:0}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;min-width:0}
.pager{display:flex;gap:1rem;margin:1rem 0}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end}
.filters .field{margin:0}
fieldset.auth{border:1px solid #d1d5db;border-radius:.4rem;padding:.5rem 1rem;margin:0 0 .9rem}
fieldset.auth[hidden]{display:none}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:0 1rem}
@media (max-width:40rem){.pair{grid-template-columns:1fr}}
@media (max-width:40rem){
  main{padding:.75rem}
  table.stack thead{position:absolute;left:-9999px}
  table.stack tr{display:block;border-bottom:2px solid #d1d5db;padding:.4rem 0}
  table.stack td{display:block;border:0;padding:.15rem .5rem}
  table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
}
`;

const JS = `"use strict";
(function () {
  function say(button, text) {
    var status = document.getElementById(button.getAttribute("data-status") || "");
    if (status) status.textContent = text;
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    function fallback() {
      var range = document.createRange();
      range.selectNodeContents(source);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say(button, "Selected: press Ctrl+C (or Cmd+C) to copy");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { say(button, "Copied to the clipboard"); }, fallback);
    } else {
      fallback();
    }
  });
  // The service form shows the fieldset of the chosen auth type only (all show without script).
  function showAuth(select) {
    var sets = select.form ? select.form.querySelectorAll("[data-auth-for]") : [];
    for (var i = 0; i < sets.length; i++) sets[i].hidden = sets[i].getAttribute("data-auth-for") !== select.value;
  }
  document.addEventListener("DOMContentLoaded", function () {
    // The OAuth connect step: on to the provider at once (a form may not redirect off-site).
    var follow = document.querySelector("a[data-follow]");
    if (follow && /^https?:/.test(follow.href)) window.location.assign(follow.href);
    var selects = document.querySelectorAll("select[data-auth-type]");
    for (var i = 0; i < selects.length; i++) showAuth(selects[i]);
  });
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-auth-type")) showAuth(target);
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) target.form.requestSubmit();
  });
})();
`;

export interface Asset {
  path: string;
  body: string;
  contentType: string;
  integrity: string;
}

async function describe(name: string, ext: string, body: string, contentType: string): Promise<Asset> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(body)));
  return { path: `/portal/assets/${name}.${bytesToHex(digest).slice(0, 16)}.${ext}`, body, contentType, integrity: `sha256-${bytesToBase64(digest)}` };
}

let assets: Promise<{ css: Asset; js: Asset }> | undefined;

/** The hashed names and integrity of the stylesheet and script (computed once per isolate). */
export function portalAssets(): Promise<{ css: Asset; js: Asset }> {
  assets ??= Promise.all([describe("portal", "css", CSS, "text/css; charset=utf-8"), describe("portal", "js", JS, "text/javascript; charset=utf-8")]).then(([css, js]) => ({ css, js }));
  return assets;
}
