import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const HTML = "text/html,application/xhtml+xml";
/** The default PUBLIC_URL of a development Gatehouse on the default PORT. */
const DEV_URL = "http://localhost:8080";

describe.each(backendNames())("development: another loopback spelling of PUBLIC_URL leads to PUBLIC_URL (%s)", (backend) => {
  let h: Harness;
  const page = (host: string, url = "/login", method: "GET" | "HEAD" = "GET", accept = HTML) => h.request({ method, url, headers: { host, accept } });

  beforeAll(async () => {
    // No PUBLIC_URL: the default, http://localhost:$PORT.
    h = await startHarness(backend, { NODE_ENV: "development", PORT: "8080" });
    expect(h.publicUrl).toBe(DEV_URL);
  });
  afterAll(async () => h?.close());

  it("a page opened on 127.0.0.1 or [::1] at Gatehouse's port is sent to the same path and query on localhost", async () => {
    for (const host of ["127.0.0.1:8080", "[::1]:8080", "127.0.0.1.:8080"]) {
      const res = await page(host, "/login?return=%2Faccount");
      expect(res.statusCode, host).toBe(302);
      expect(res.headers.location).toBe(`${DEV_URL}/login?return=%2Faccount`);
      expect(res.headers["cache-control"]).toBe("no-store");
    }
    const head = await page("127.0.0.1:8080", "/", "HEAD");
    expect(head.statusCode).toBe(302);
    expect(head.headers.location).toBe(`${DEV_URL}/`);
  });

  it("the sign-in page is then reachable, and signing in works there", async () => {
    const first = await page("127.0.0.1:8080", "/login");
    const target = new URL(String(first.headers.location));
    const form = await page(target.host, target.pathname);
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('name="password"');
    await h.register("loopback-user");
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: "loopback-user", password: GOOD_PASSWORD }, headers: { host: target.host, origin: target.origin } });
    expect(login.statusCode).toBe(200);
    expect(sessionCookieFrom(login)).not.toBeNull();
  });

  it("attack: never an open redirect — the target is always PUBLIC_URL's origin, whatever the Host or path", async () => {
    for (const url of ["//evil.test/x", "/\\evil.test", "/@evil.test"]) {
      const res = await page("127.0.0.1:8080", url);
      expect(res.statusCode, url).toBe(302);
      expect(new URL(String(res.headers.location)).origin).toBe(DEV_URL);
      expect(String(res.headers.location).startsWith(`${DEV_URL}/`)).toBe(true);
    }
    // Hosts that are not a loopback spelling at Gatehouse's port are never redirected (no Location from a Host).
    for (const host of ["evil.test:8080", "evil.test", "127.0.0.2:8080", "10.0.0.1:8080", "127.0.0.1:9090", "127.0.0.1", "localhost.evil.test:8080"]) {
      const res = await page(host);
      expect(res.headers.location, host).toBeUndefined();
    }
  });

  it("only page loads are redirected: API calls, form posts and health checks are answered where they are", async () => {
    const api = await h.request({ method: "GET", url: "/api/auth/me", headers: { host: "127.0.0.1:8080", accept: "application/json" } });
    expect(api.statusCode).toBe(401);
    const post = await h.request({ method: "POST", url: "/api/auth/login", json: { username: "x", password: "y" }, headers: { host: "127.0.0.1:8080", origin: "http://127.0.0.1:8080" } });
    expect(post.headers.location).toBeUndefined();
    expect(post.statusCode).toBe(403);
    // The portal's own spelling is never redirected.
    expect((await page("localhost:8080")).statusCode).toBe(200);
  });

  it("/healthz and /readyz answer on any host name or address, even for a browser", async () => {
    for (const host of ["127.0.0.1:8080", "[::1]:8080", "10.1.2.3", "[2001:db8::5]:8080", "monitor.internal", "localhost:8080"]) {
      for (const [url, status] of [["/healthz", "ok"], ["/readyz", "ready"]]) {
        const res = await h.request({ method: "GET", url: url!, headers: { host, accept: HTML } });
        expect(res.statusCode, `${host}${url}`).toBe(200);
        expect(res.json()).toEqual({ status });
      }
    }
  });
});

describe("the loopback redirect is development-only and for a loopback PUBLIC_URL only", () => {
  it("production: 127.0.0.1 is not redirected to PUBLIC_URL", async () => {
    const h = await startHarness("sqlite", { NODE_ENV: "production", PUBLIC_URL: "http://localhost:8080", GATEHOUSE_ALLOW_INSECURE_HTTP: "true" });
    try {
      const res = await h.request({ method: "GET", url: "/login", headers: { host: "127.0.0.1:8080", accept: HTML } });
      expect(res.headers.location).toBeUndefined();
      expect((await h.request({ method: "GET", url: "/healthz", headers: { host: "127.0.0.1:8080" } })).statusCode).toBe(200);
    } finally {
      await h.close();
    }
  });

  it("a PUBLIC_URL that is not loopback: a loopback Host is never redirected", async () => {
    const h = await startHarness("sqlite", { NODE_ENV: "development", PUBLIC_URL: "https://auth.example.test" });
    try {
      for (const host of ["127.0.0.1", "localhost", "127.0.0.1:443"]) {
        const res = await h.request({ method: "GET", url: "/login", headers: { host, accept: HTML } });
        expect(res.headers.location, host).toBeUndefined();
      }
    } finally {
      await h.close();
    }
  });
});

describe("a loopback host the access rules name is theirs", () => {
  it("reverse-proxy mode with a rule for 127.0.0.1: its pages go to the app, not to PUBLIC_URL", async () => {
    const rules = `
access_control:
  default_policy: deny
  rules:
    - domain: "127.0.0.1"
      policy: bypass
`;
    const p = await startProxyHarness("sqlite", { NODE_ENV: "development", PORT: "8080" }, rules);
    try {
      const res = await p.h.request({ method: "GET", url: "/dashboard", headers: { host: "127.0.0.1:8080", accept: HTML } });
      expect(res.headers.location).toBeUndefined();
      expect(res.statusCode).toBe(200);
      expect(p.upstream.seen.map((s) => s.url)).toEqual(["/dashboard"]);
    } finally {
      await p.close();
    }
  });
});

describe.each(backendNames())("reverse-proxy mode: health on the machine's addresses is Gatehouse's, the app keeps its own (%s)", (backend) => {
  let p: ProxyHarness;
  let cookie: string;

  beforeAll(async () => {
    p = await startProxyHarness(backend, { NODE_ENV: "development", PORT: "8080" });
    const user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  it("/healthz and /readyz by IP address, localhost or the portal host are answered by Gatehouse, never forwarded", async () => {
    for (const host of ["10.0.0.5:8080", "10.0.0.5", "127.0.0.1:8080", "[::1]:8080", "[fd00::5]", "localhost:8080", "localhost"]) {
      for (const [url, status] of [["/healthz", "ok"], ["/readyz", "ready"], ["/healthz?probe=1", "ok"]]) {
        const res = await p.h.request({ method: "GET", url: url!, headers: { host } });
        expect(res.statusCode, `${host}${url}`).toBe(200);
        expect(res.json()).toEqual({ status });
      }
    }
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("on the app's own host, /healthz is the app's; Gatehouse's is under /.gatehouse/", async () => {
    const app = await p.h.request({ method: "GET", url: "/healthz", cookie, headers: { host: APP_HOST } });
    expect(app.statusCode).toBe(200);
    expect(app.headers["x-upstream"]).toBe("echo");
    expect(p.upstream.seen.map((s) => s.url)).toEqual(["/healthz"]);
    const own = await p.h.request({ method: "GET", url: "/.gatehouse/healthz", headers: { host: APP_HOST } });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({ status: "ok" });
    expect((await p.h.request({ method: "GET", url: "/.gatehouse/readyz", headers: { host: APP_HOST } })).json()).toEqual({ status: "ready" });
    expect(p.upstream.seen).toHaveLength(1);
  });

  it("only /healthz and /readyz: any other path on an address is still the gateway's business (no rule names it: refused)", async () => {
    const res = await p.h.request({ method: "GET", url: "/admin", headers: { host: "10.0.0.5:8080", accept: "application/json" } });
    expect(res.statusCode).toBe(403);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("a page opened on 127.0.0.1 at Gatehouse's port is sent to PUBLIC_URL instead of 'Not allowed'", async () => {
    const res = await p.h.request({ method: "GET", url: "/account?tab=2", headers: { host: "127.0.0.1:8080", accept: HTML } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`${DEV_URL}/account?tab=2`);
    expect(p.upstream.seen).toHaveLength(0);
  });
});
