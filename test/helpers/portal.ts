import { SELF } from "cloudflare:test";

/**
 * A minimal browser for the portal in the Workers pool: keeps cookies, follows nothing by itself,
 * reads the CSRF token of a page's forms, and posts forms the way a browser would.
 */
export class PortalClient {
  readonly cookies = new Map<string, string>();
  /** Every HTML the portal answered this client (canary searches). */
  readonly pages: string[] = [];

  constructor(readonly origin = "https://vault.test", readonly address = `192.0.2.${Math.floor(Math.random() * 250) + 1}`) {}

  private remember(response: Response) {
    for (const line of response.headers.getAll("set-cookie")) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/Max-Age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private headers(extra: Record<string, string> = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    return { ...(cookie ? { cookie } : {}), "cf-connecting-ip": this.address, ...extra };
  }

  async get(path: string) {
    const response = await SELF.fetch(this.origin + path, { headers: this.headers(), redirect: "manual" });
    this.remember(response);
    const text = await response.text();
    this.pages.push(text);
    return { status: response.status, headers: response.headers, text, location: response.headers.get("location") };
  }

  async post(path: string, fields: Record<string, string | string[]>, extraHeaders: Record<string, string> = {}) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) body.append(k, item);
    const response = await SELF.fetch(this.origin + path, {
      method: "POST",
      headers: this.headers({ "content-type": "application/x-www-form-urlencoded", origin: this.origin, ...extraHeaders }),
      body: body.toString(),
      redirect: "manual",
    });
    this.remember(response);
    const text = await response.text();
    this.pages.push(text);
    return { status: response.status, headers: response.headers, text, location: response.headers.get("location") };
  }

  /** GETs `pagePath`, then posts `fields` to `action` with that page's CSRF token. */
  async submit(pagePath: string, action: string, fields: Record<string, string | string[]>) {
    const page = await this.get(pagePath);
    const token = csrfOf(page.text);
    return this.post(action, { _csrf: token, ...fields });
  }
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error("no CSRF token on the page");
  return match[1];
}
