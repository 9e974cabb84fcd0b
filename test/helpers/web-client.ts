import type { LightMyRequestResponse } from "fastify";
import type { Harness } from "./harness.js";

/** The `_csrf` value of the first form in a page, or null. */
export function csrfOf(html: string): string | null {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;
}

/** Form-encodes fields (arrays repeat the name, like a checkbox group). */
export function formBody(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
  return params.toString();
}

/**
 * A minimal browser without JavaScript over `app.inject`: a cookie jar, the
 * `Sec-Fetch-Site`/`Origin` a browser sends on a same-origin form post, and
 * the CSRF field taken from the last page it loaded.
 */
export class WebClient {
  readonly jar = new Map<string, string>();
  lastPage = "";
  userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

  constructor(private readonly h: Harness) {}

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** The session cookie header value (`name=value`), or null. */
  get session(): string | null {
    for (const [k, v] of this.jar) if (k.endsWith("gatehouse_session")) return `${k}=${v}`;
    return null;
  }

  private store(res: LightMyRequestResponse): void {
    for (const c of res.cookies) {
      if (c.value === "" || c.maxAge === 0 || (c.expires !== undefined && new Date(c.expires).getTime() < Date.now())) this.jar.delete(c.name);
      else this.jar.set(c.name, c.value);
    }
  }

  async get(url: string, headers: Record<string, string | null> = {}): Promise<LightMyRequestResponse> {
    const res = await this.h.request({ method: "GET", url, headers: { cookie: this.cookie || null, "user-agent": this.userAgent, ...headers } });
    this.store(res);
    if (String(res.headers["content-type"] ?? "").startsWith("text/html")) this.lastPage = res.body;
    return res;
  }

  /** POSTs a form like a browser would; `_csrf` defaults to the token of the last page loaded. */
  async post(url: string, fields: Record<string, string | string[]>, headers: Record<string, string | null> = {}): Promise<LightMyRequestResponse> {
    const token = csrfOf(this.lastPage);
    const body = formBody({ ...(token !== null ? { _csrf: token } : {}), ...fields });
    const res = await this.h.request({
      method: "POST",
      url,
      payload: body,
      headers: {
        cookie: this.cookie || null,
        "user-agent": this.userAgent,
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "same-origin",
        ...headers,
      },
    });
    this.store(res);
    if (String(res.headers["content-type"] ?? "").startsWith("text/html")) this.lastPage = res.body;
    return res;
  }

  /** Signs in through the login form (GET then POST); returns the POST response. */
  async signIn(username: string, password: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    await this.get("/login");
    return this.post("/login", { username, password, ...extra });
  }
}
