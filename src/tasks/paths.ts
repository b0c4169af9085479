/**
 * Dotted paths into JSON (`status`, `urls.get`, `output.0`, `images[0].url`) and `{...}`
 * templates over a context (`{startResult.body.status_url}`), as pollConfig uses them.
 */
export function getPath(value: unknown, path: string): unknown {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean);
  let current: unknown = value;
  for (const part of parts) {
    if (current === null || typeof current !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Renders `{a.b.c}` placeholders; a placeholder that resolves to nothing is an error. */
export function renderTemplate(template: string, context: unknown): string {
  return template.replace(/\{([^{}]+)\}/g, (_m, path: string) => {
    const value = getPath(context, path.trim());
    if (value === undefined || value === null || typeof value === "object") {
      throw new TemplateError(`template field {${path.trim()}} is missing from the provider's response`);
    }
    return String(value);
  });
}

export class TemplateError extends Error {
  override name = "TemplateError";
}
