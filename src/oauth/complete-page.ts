/**
 * The page a browser lands on after the connect flow: plain server-rendered HTML, every value
 * escaped, under a CSP that allows nothing to load or run (no script, no frame, no form).
 */
export const COMPLETE_PAGE_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

export interface CompletePageInput {
  status?: string | undefined;
  key?: string | undefined;
  error?: string | undefined;
  description?: string | undefined;
}

export function renderCompletePage(input: CompletePageInput): Response {
  const success = input.status === "success";
  const key = input.key ? `<p>Credential: <code>${escapeHtml(input.key.slice(0, 100))}</code></p>` : "";
  const body = success
    ? `<h1>Connected</h1>${key}<p>The OAuth credential is connected. You can close this window.</p>`
    : `<h1>Connection failed</h1>${key}<p>Error: <code>${escapeHtml((input.error ?? "unknown_error").slice(0, 64))}</code></p>${
        input.description ? `<p>${escapeHtml(input.description.slice(0, 300))}</p>` : ""
      }<p>Nothing was stored. Start the connection again from the vault.</p>`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${success ? "Connected" : "Connection failed"} - Token Vault</title></head><body><main>${body}</main></body></html>`;
  return new Response(html, {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": COMPLETE_PAGE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    },
  });
}
