import { html, type Html } from "../html";

/** Small renderers shared by the pages. */
export const date = (iso: string | null | undefined): Html =>
  iso ? html`<time datetime="${iso}">${iso.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/:\d\dZ$/, "Z")}</time>` : html`<span class="muted">—</span>`;

export const badge = (text: string, tone: "" | "good" | "bad" = "") => html`<span class="badge${tone ? html` ${tone}` : ""}">${text}</span>`;

export const none = html`<span class="muted">—</span>`;

/** Fixed notices for `?done=` after a redirect: the query names one, it never supplies the text. */
const NOTICES: Record<string, string> = {
  "secret-added": "Secret saved. Its value is encrypted and will not be shown again.",
  rotated: "New version saved. The value will not be shown again.",
  deleted: "Deleted for good.",
  assigned: "Assignments saved.",
  "key-revoked": "API key revoked. It is refused from the next request on.",
  "lease-revoked": "Lease revoked.",
  "team-switched": "Team switched.",
  "signed-out": "You are signed out.",
  "keys-set": "KEYs saved. Their values are encrypted and will not be shown again.",
  "service-saved": "Service saved.",
  "service-deleted": "Service deleted.",
  "service-enabled": "Service enabled.",
  "service-disabled": "Service disabled.",
  "settings-saved": "Vault settings saved.",
  "oauth-saved": "OAuth tokens saved. They will not be shown again.",
};
export const noticeFor = (url: URL): string | undefined => NOTICES[url.searchParams.get("done") ?? ""];
