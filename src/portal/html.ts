/**
 * HTML by tagged template, escaped by default: every interpolated value is escaped unless it is
 * already `Html` (the result of another `html` template, or explicitly marked with `trusted`).
 * Arrays are joined, null/undefined/false render nothing. There is no other way to build markup
 * in the portal, so a credential named `<img src=x onerror=alert(1)>` renders as text.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new Html(out);
}

/** Marks a string as markup: only for constants of this codebase, never for data. */
export const trusted = (markup: string): Html => new Html(markup);
