import { UPSTREAM_HEADER } from "./balancer.js";

/** One answer: status, the instance nginx used (when through nginx), the session cookie it set, and the error code. */
export interface Answer {
  status: number;
  upstream: string | null;
  cookie: string | null;
  code: string | null;
}

/**
 * Talks to a Gatehouse (an instance or the balancer) as one client: `ip` is
 * sent as X-Forwarded-For, which the instances believe from 127.0.0.1 (and
 * nginx keeps, appending its own peer), so each test client has its own
 * per-IP limits. `origin` is PUBLIC_URL's (the CSRF check).
 */
export function clientOf(origin: string) {
  const send = async (base: string, method: string, path: string, opts: { ip: string; cookie?: string; json?: unknown }): Promise<Answer> => {
    const headers: Record<string, string> = { "x-forwarded-for": opts.ip };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (method !== "GET") headers.origin = origin;
    if (opts.json !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${base}${path}`, { method, headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}), signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let code: string | null = null;
    try {
      // Gatehouse's errors: {"error": "<message>", "code": "<code>"} (docs/api.md).
      code = (JSON.parse(text) as { code?: string }).code ?? null;
    } catch {
      // not JSON (nginx's own 502 page)
    }
    const set = /gatehouse_session=[^;]+/.exec(res.headers.get("set-cookie") ?? "");
    return { status: res.status, upstream: res.headers.get(UPSTREAM_HEADER), cookie: set?.[0] ?? null, code };
  };
  return {
    register: (base: string, username: string, password: string, ip: string) => send(base, "POST", "/api/auth/register", { ip, json: { username, password } }),
    login: (base: string, username: string, password: string, ip: string) => send(base, "POST", "/api/auth/login", { ip, json: { username, password } }),
    me: (base: string, cookie: string, ip: string) => send(base, "GET", "/api/auth/me", { ip, cookie }),
    logout: (base: string, cookie: string, ip: string) => send(base, "POST", "/api/auth/logout", { ip, cookie }),
    get: (base: string, path: string, ip: string) => send(base, "GET", path, { ip }),
  };
}

/** Test client addresses: a distinct one per call, `10.<block>.x.y` (one block per scenario, so no two share a limit). */
export function addressPool(block: number): () => string {
  let n = 0;
  return () => {
    n++;
    return `10.${block}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
  };
}
