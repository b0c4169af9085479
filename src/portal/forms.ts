import type { ZodError } from "zod";
import { AppError } from "../errors";
import { html, type Html } from "./html";

/** Form fields with their label, hint and error next to them (and wired with aria-describedby). */
export type FieldErrors = Record<string, string>;

export interface FieldSpec {
  name: string;
  label: string;
  type?: "text" | "email" | "password" | "search" | "datetime-local";
  /** Never given for password fields: a stored value is never rendered back. */
  value?: string | undefined;
  hint?: string;
  required?: boolean;
  autocomplete?: string;
  errors?: FieldErrors | undefined;
  multiline?: boolean;
}

export function field(spec: FieldSpec): Html {
  const id = `f-${spec.name}`;
  const error = spec.errors?.[spec.name];
  const described = [spec.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  const common = html`id="${id}" name="${spec.name}"${spec.required ? html` required` : ""}${described ? html` aria-describedby="${described}"` : ""}${error ? html` aria-invalid="true"` : ""}${spec.autocomplete ? html` autocomplete="${spec.autocomplete}"` : ""}`;
  const type = spec.type ?? "text";
  const value = type === "password" ? undefined : spec.value;
  const control = spec.multiline
    ? html`<textarea ${common} rows="3">${value ?? ""}</textarea>`
    : html`<input type="${type}" ${common}${value !== undefined ? html` value="${value}"` : ""}>`;
  return html`<div class="field">
  <label for="${id}">${spec.label}</label>
  ${spec.hint ? html`<span class="hint" id="${id}-hint">${spec.hint}</span>` : ""}
  ${control}
  ${error ? html`<p class="error" id="${id}-error">${error}</p>` : ""}
</div>`;
}

/** Checkboxes of one name in a fieldset with a legend. */
export function checkboxes(spec: { name: string; legend: string; options: { value: string; label: string | Html; checked: boolean }[]; errors?: FieldErrors | undefined; hint?: string }): Html {
  const error = spec.errors?.[spec.name];
  return html`<div class="field"><fieldset${error ? html` aria-describedby="f-${spec.name}-error"` : ""}>
  <legend>${spec.legend}</legend>
  ${spec.hint ? html`<span class="hint">${spec.hint}</span>` : ""}
  <div class="checks">${spec.options.map(
    (o, i) => html`<label for="f-${spec.name}-${i}"><input type="checkbox" id="f-${spec.name}-${i}" name="${spec.name}" value="${o.value}"${o.checked ? html` checked` : ""}> ${o.label}</label>`,
  )}</div>
  ${error ? html`<p class="error" id="f-${spec.name}-error">${error}</p>` : ""}
</fieldset></div>`;
}

/** A string field of a posted form ("" when absent or a file). */
export const text = (form: FormData, name: string): string => {
  const value = form.get(name);
  return typeof value === "string" ? value : "";
};

/** Every string value of a repeated field. */
export const texts = (form: FormData, name: string): string[] => form.getAll(name).filter((v): v is string => typeof v === "string");

/** A comma- or line-separated list field as trimmed, non-empty items. */
export const list = (form: FormData, name: string): string[] =>
  text(form, name)
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);

/** Zod issues as field errors (first message per field; the path's last part names the field). */
export function zodFieldErrors(error: ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const name = String(issue.path[0] ?? "form");
    errors[name] ??= issue.message;
  }
  return errors;
}

/**
 * A domain error as field errors: validation issues by field (paths like `policy.x` or
 * `body.name`), anything else under `form`. Messages are the catalog's and never echo input.
 */
export function appFieldErrors(error: AppError, fieldOf: Record<string, string> = {}): FieldErrors {
  const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
  if (error.code === "validation_failed" && issues?.length) {
    const errors: FieldErrors = {};
    for (const issue of issues) {
      const name = issue.path.replace(/^body\./, "").split(".")[0] ?? "form";
      errors[name] ??= issue.message;
    }
    return errors;
  }
  const name = fieldOf[error.code] ?? "form";
  return { [name]: error.message };
}

/** The form-level error, shown above the fields. */
export const formError = (errors: FieldErrors | undefined): Html =>
  errors?.form ? html`<p class="alert" role="alert">${errors.form}</p>` : html``;
