import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { sessionCookieFrom, GOOD_PASSWORD } from "../helpers/harness.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";
import { APP_HOST, APP_ORIGIN, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const HTML = { accept: "text/html,application/xhtml+xml" };

describe.each(backendNames())("reverse-proxy mode: UPSTREAM_URL with access rules (%s)", (backend) => {
  let p: ProxyHarness;
  let user: { cookie: string; name: string; id: string };
  let appCookie: string;
  const app = (extra: Record<string, string | null> = {}) => ({ host: APP_HOST, ...extra });

  beforeAll(async () => {
    p = await startProxyHarness(backend);
    user = await p.h.account("user");
    // Sign in on the app's own host, under the reserved prefix: the cookie is then the app host's.
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: app({ origin: APP_ORIGIN }) });
    expect(login.statusCode).toBe(200);
    appCookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  it("prefix routing: /.gatehouse/api/… is Gatehouse on a proxied host, and the app keeps its own /api/", async () => {
    const me = await p.h.request({ method: "GET", url: "/.gatehouse/api/auth/me", cookie: appCookie, headers: app() });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.username).toBe(user.name);
    expect(p.upstream.seen).toHaveLength(0);

    const appApi = await p.h.request({ method: "GET", url: "/api/auth/me?x=1", cookie: appCookie, headers: app() });
    expect(appApi.statusCode).toBe(200);
    expect(appApi.headers["x-upstream"]).toBe("echo");
    expect(appApi.json().url).toBe("/api/auth/me?x=1");
    expect(p.upstream.seen).toHaveLength(1);
  });

  it("login CSRF under the prefix: the cross-site rule checks against the proxied host's own origin", async () => {
    const body = { username: user.name, password: GOOD_PASSWORD };
    for (const origin of ["https://evil.test", p.h.publicUrl]) {
      const res = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: body, headers: app({ origin }) });
      expect(res.statusCode, origin).toBe(403);
      expect(res.json().code).toBe("csrf");
    }
    const ok = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: body, headers: app({ origin: APP_ORIGIN }) });
    expect(ok.statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("Gatehouse's pages move under the prefix too: /.gatehouse/login renders on the app host", async () => {
    const page = await p.h.request({ method: "GET", url: "/.gatehouse/login", headers: app(HTML) });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("on the portal's own host (PUBLIC_URL) Gatehouse stays at the root and nothing is forwarded", async () => {
    const portalHost = new URL(p.h.publicUrl).host;
    const me = await p.h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie, headers: { host: portalHost } });
    expect(me.statusCode).toBe(200);
    const other = await p.h.request({ method: "GET", url: "/anything", headers: { host: portalHost } });
    expect(other.statusCode).toBe(404);
    // With an upstream configured, the built-in demo steps aside.
    expect((await p.h.request({ method: "GET", url: "/demo/", cookie: user.cookie, headers: { host: portalHost } })).statusCode).toBe(404);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("an anonymous browser navigation is sent to the sign-in page on the same host, with a return URL", async () => {
    const res = await p.h.request({ method: "GET", url: "/reports/q3?year=2026", headers: app(HTML) });
    expect(res.statusCode).toBe(302);
    const location = String(res.headers.location);
    expect(location.startsWith("/.gatehouse/login?return=")).toBe(true);
    expect(new URL(location, APP_ORIGIN).searchParams.get("return")).toBe(`${APP_ORIGIN}/reports/q3?year=2026`);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("an anonymous API call gets 401; a bypass rule lets it through with empty identity headers", async () => {
    const denied = await p.h.request({ method: "GET", url: "/api/items", headers: app() });
    expect(denied.statusCode).toBe(401);
    expect(denied.json().code).toBe("unauthenticated");
    const open = await p.h.request({ method: "GET", url: "/public/logo.png", headers: app() });
    expect(open.statusCode).toBe(200);
    const seen = open.json().headers as Record<string, string>;
    for (const name of ["remote-user", "remote-email", "remote-name", "remote-groups"]) expect(seen[name]).toBe("");
  });

  it("a signed-in user is forwarded with identity headers; the session cookie never reaches the app, other cookies do", async () => {
    const sso = "__Secure-gatehouse_session=sealed-sso-value";
    const res = await p.h.request({ method: "GET", url: "/dashboard", cookie: `${appCookie}; app_pref=dark; ${sso}`, headers: app() });
    expect(res.statusCode).toBe(200);
    const seen = res.json().headers as Record<string, string>;
    expect(seen["remote-user"]).toBe(user.name);
    expect(seen["remote-groups"]).toBe("user");
    expect(seen.cookie).toBe("app_pref=dark");
    expect(JSON.stringify(seen)).not.toContain(appCookie.split("=")[1]);
    expect(seen["x-forwarded-host"]).toBe(APP_HOST);
    expect(seen["x-forwarded-proto"]).toBe("http");
  });

  it("the app cannot plant a Gatehouse session cookie; its own cookies and headers pass", async () => {
    const res = await p.h.request({ method: "GET", url: "/dashboard", cookie: appCookie, headers: app() });
    const setCookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    expect(setCookie.some((c) => c.startsWith("app=1"))).toBe(true);
    expect(setCookie.some((c) => c.startsWith("gatehouse_session=planted"))).toBe(false);
    expect(res.headers["x-upstream"]).toBe("echo");
    // Gatehouse's own page policy is not forced onto the app; the request id is still there.
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.headers["x-request-id"]).toBeDefined();
  });

  it("hop-by-hop headers and client-sent forwarding headers are not passed on", async () => {
    const res = await p.h.request({
      method: "GET",
      url: "/dashboard",
      cookie: appCookie,
      headers: app({ connection: "keep-alive, x-hop", "x-hop": "1", "keep-alive": "timeout=5", "proxy-authorization": "Basic Zm9vOmJhcg==", "x-forwarded-for": "6.6.6.6", forwarded: "for=6.6.6.6", "x-real-ip": "6.6.6.6", "x-forwarded-host": "admin.internal", "x-forwarded-proto": "https" }),
    });
    const seen = res.json().headers as Record<string, string>;
    for (const name of ["x-hop", "keep-alive", "proxy-authorization", "forwarded", "x-real-ip"]) expect(seen[name], name).toBeUndefined();
    expect(seen["x-forwarded-for"]).not.toContain("6.6.6.6");
    // X-Forwarded-Host / -Proto from an untrusted client are replaced by what Gatehouse saw.
    expect(seen["x-forwarded-host"]).toBe(APP_HOST);
    expect(seen["x-forwarded-proto"]).toBe("http");
  });

  it("cross-site rule: a state-changing request carrying the session cookie from another origin is refused and not forwarded", async () => {
    const evil = await p.h.request({ method: "POST", url: "/api/items", cookie: appCookie, payload: "{}", headers: app({ origin: "https://evil.test", "content-type": "application/json" }) });
    expect(evil.statusCode).toBe(403);
    expect(evil.json().code).toBe("csrf");
    const fetchSite = await p.h.request({ method: "DELETE", url: "/api/items/1", cookie: appCookie, headers: app({ origin: null, "sec-fetch-site": "cross-site" }) });
    expect(fetchSite.statusCode).toBe(403);
    expect(p.upstream.seen).toHaveLength(0);

    const same = await p.h.request({ method: "POST", url: "/api/items", cookie: appCookie, payload: "a=1", headers: app({ origin: APP_ORIGIN, "content-type": "application/x-www-form-urlencoded" }) });
    expect(same.statusCode).toBe(200);
    expect(same.json().bytes).toBe(3);
    // Without the session cookie there is nothing to ride on: a webhook to a bypass path passes.
    const hook = await p.h.request({ method: "POST", url: "/public/webhook", payload: "{}", headers: app({ origin: "https://partner.test", "content-type": "application/json" }) });
    expect(hook.statusCode).toBe(200);
  });

  it("a refused browser navigation gets Gatehouse's error page, linking under the prefix", async () => {
    const res = await p.h.request({ method: "GET", url: "/admin/panel", cookie: appCookie, headers: app(HTML) });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toContain("text/html");
    expect(res.body).toContain("/.gatehouse/assets/");
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("a host no rule protects is refused", async () => {
    const res = await p.h.request({ method: "GET", url: "/", cookie: appCookie, headers: { host: "unknown.test" } });
    expect(res.statusCode).toBe(403);
    expect(p.upstream.seen).toHaveLength(0);
  });
});

describe("reverse-proxy mode: per-host upstreams from the rules file, and an unreachable upstream", () => {
  let p: ProxyHarness;
  let second: EchoUpstream;

  beforeAll(async () => {
    second = await startEchoUpstream({ plantCookies: true });
    const rules = `
access_control:
  default_policy: deny
  rules:
    - domain: ["app.test", "wiki.test", "down.test"]
      policy: bypass
upstreams:
  - domain: wiki.test
    url: ${second.url}
  - domain: down.test
    url: http://127.0.0.1:9
`;
    p = await startProxyHarness("sqlite", {}, rules);
  });
  afterAll(async () => {
    await p?.close();
    await second?.close();
  });

  it("each host goes to its own upstream; UPSTREAM_URL takes the others", async () => {
    const wiki = await p.h.request({ method: "GET", url: "/page", headers: { host: "wiki.test" } });
    expect(wiki.statusCode).toBe(200);
    expect(second.seen.map((s) => s.url)).toEqual(["/page"]);
    const app = await p.h.request({ method: "GET", url: "/page", headers: { host: APP_HOST } });
    expect(app.statusCode).toBe(200);
    expect(p.upstream.seen.map((s) => s.url)).toEqual(["/page"]);
  });

  it("rules reload: a new upstream takes effect without a restart", async () => {
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const third = await startEchoUpstream({ plantCookies: true });
    try {
      expect((await p.h.request({ method: "GET", url: "/x", headers: { host: "new.test" } })).statusCode).toBe(403);
      writeFileSync(
        join(p.rulesDir, "gatehouse.yml"),
        `access_control:\n  default_policy: deny\n  rules:\n    - domain: ["app.test", "new.test", "down.test"]\n      policy: bypass\nupstreams:\n  - domain: new.test\n    url: ${third.url}\n  - domain: down.test\n    url: http://127.0.0.1:9\n`,
      );
      expect(p.h.gh.reloadRules()).toBe(true);
      const res = await p.h.request({ method: "GET", url: "/x", headers: { host: "new.test" } });
      expect(res.statusCode).toBe(200);
      expect(third.seen.map((s) => s.url)).toEqual(["/x"]);
    } finally {
      await third.close();
    }
  });

  it("an upstream that does not answer is a clean 502", async () => {
    const res = await p.h.request({ method: "GET", url: "/page", headers: { host: "down.test" } });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({ error: "The protected app did not answer", code: "bad_gateway" });
  });
});
