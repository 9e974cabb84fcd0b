import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

describe.each(backendNames())("forward-auth endpoints (docs/api.md Gateway, FWD-01..03) (%s)", (backend) => {
  let h: Harness;
  let user: { cookie: string; id: string; name: string };
  let admin: { cookie: string; id: string; name: string };
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: `${PROXY},fd00::9`, GATEHOUSE_CONFIG: rulesFile(RULES) });
    user = await h.account("user");
    admin = await h.account("admin");
  });
  afterAll(async () => h?.close());

  it("allowed → 200 with all four Remote-* headers", async () => {
    const res = await ask(h, { uri: "/dashboard", cookie: user.cookie });
    expect(res.statusCode).toBe(200);
    expect(res.headers["remote-user"]).toBe(user.name);
    expect(res.headers["remote-email"]).toBe(`${user.name}@example.test`);
    expect(res.headers["remote-name"]).toBe(user.name);
    expect(res.headers["remote-groups"]).toBe("user");
    expect(res.headers["cache-control"]).toBe("no-store");
    const adm = await ask(h, { uri: "/admin/panel", cookie: admin.cookie });
    expect(adm.statusCode).toBe(200);
    expect(adm.headers["remote-groups"]).toBe("user,admin");
  });

  it("clickjacking through a relayed answer: the 302, 401 and 403 a proxy may show the browser carry the hardening headers (HSTS included); an allow answer, read only by the proxy, carries just the identity", async () => {
    const relayed = [
      await ask(h, { uri: "/dashboard", accept: "text/html" }),
      await ask(h, { uri: "/dashboard", accept: "application/json" }),
      await ask(h, { uri: "/admin/panel", cookie: user.cookie }),
      await h.gh.app.inject({ method: "GET", url: "/api/authz/forward-auth", remoteAddress: "203.0.113.50" }),
      await h.gh.app.inject({ method: "GET", url: "/api/authz/no-such-endpoint", remoteAddress: PROXY }),
    ];
    expect(relayed.map((r) => r.statusCode)).toEqual([302, 401, 403, 403, 404]);
    for (const res of relayed) {
      expect(res.headers["x-frame-options"]).toBe("DENY");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(String(res.headers["content-security-policy"])).toContain("frame-ancestors 'none'");
      expect(String(res.headers["strict-transport-security"])).toMatch(/max-age=63072000/);
    }
    const allowed = await ask(h, { uri: "/dashboard", cookie: user.cookie });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers["x-frame-options"]).toBeUndefined();
    expect(allowed.headers["content-security-policy"]).toBeUndefined();
  });

  it("bypass for an anonymous request → 200 with the four headers present and empty", async () => {
    const res = await ask(h, { uri: "/public/logo.png" });
    expect(res.statusCode).toBe(200);
    for (const name of ["remote-user", "remote-email", "remote-name", "remote-groups"]) expect(res.headers[name]).toBe("");
  });

  it("not signed in, browser navigation → 302 to the portal's login with the original URL", async () => {
    const res = await ask(h, { uri: "/dashboard?tab=1", accept: "text/html,application/xhtml+xml" });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`https://gw.test/login?return=${encodeURIComponent("https://app.example.test/dashboard?tab=1")}`);
  });

  it("not signed in, API call or non-GET → 401", async () => {
    expect((await ask(h, { uri: "/dashboard", accept: "application/json" })).statusCode).toBe(401);
    const form = await ask(h, { uri: "/dashboard", method: "POST", accept: "text/html" });
    expect(form.statusCode).toBe(401);
    // A form post cannot be redirected to sign in; the browser shows a page that links there (with a validated return).
    expect(form.headers["content-type"]).toMatch(/^text\/html/);
    expect(form.body).toContain("<h1>Sign-in required</h1>");
    expect(form.body).toContain(`href="https://gw.test/login?return=https%3A%2F%2Fapp.example.test%2Fdashboard"`);
  });

  it("auth-request (nginx): not signed in is always 401, with the login URL in Location", async () => {
    const res = await ask(h, { endpoint: "auth-request", uri: "/dashboard", accept: "text/html" });
    expect(res.statusCode).toBe(401);
    expect(res.headers.location).toBe(`https://gw.test/login?return=${encodeURIComponent("https://app.example.test/dashboard")}`);
    const ok = await ask(h, { endpoint: "auth-request", uri: "/dashboard", cookie: user.cookie });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["remote-user"]).toBe(user.name);
  });

  it("auth-request also reads the X-Forwarded-* set", async () => {
    const res = await h.gh.app.inject({
      method: "GET",
      url: "/api/authz/auth-request",
      remoteAddress: PROXY,
      headers: { cookie: user.cookie, "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test", "x-forwarded-uri": "/x" },
    });
    expect(res.statusCode).toBe(200);
  });

  it("signed in but not allowed → 403: JSON for an API client, an HTML page for a browser (the proxy relays it as is)", async () => {
    const res = await ask(h, { uri: "/admin", cookie: user.cookie, accept: "application/json" });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("forbidden");
    const page = await ask(h, { uri: "/admin", cookie: user.cookie, accept: "text/html" });
    expect(page.statusCode).toBe(403);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain("<h1>Not allowed</h1>");
    expect(page.headers["content-security-policy"]).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]{44}'; form-action 'none'; frame-ancestors 'none'/);
    expect((await ask(h, { endpoint: "auth-request", uri: "/admin", cookie: user.cookie })).statusCode).toBe(403);
  });

  it("an IPv6 trusted proxy is trusted too", async () => {
    expect((await ask(h, { uri: "/x", cookie: user.cookie, from: "fd00::9" })).statusCode).toBe(200);
  });

  it("a trusted call without X-Forwarded-Uri is denied (FWD-03)", async () => {
    const res = await h.gh.app.inject({
      method: "GET",
      url: "/api/authz/forward-auth",
      remoteAddress: PROXY,
      headers: { cookie: user.cookie, "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test" },
    });
    expect(res.statusCode).toBe(403);
  });

  it("unknown hosts → 403 (default deny), even for a superadmin", async () => {
    const sup = await h.account("superadmin");
    expect((await ask(h, { host: "unknown.test", cookie: sup.cookie })).statusCode).toBe(403);
    expect((await ask(h, { host: "unknown.test", accept: "text/html" })).statusCode).toBe(403);
  });

  it("wildcard domains: any subdomain is protected and a valid return target", async () => {
    const res = await ask(h, { host: "wiki.apps.example.test", uri: "/page", accept: "text/html" });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`https://gw.test/login?return=${encodeURIComponent("https://wiki.apps.example.test/page")}`);
  });

  it("denials are audited, sampled: a burst of denials writes one event", async () => {
    const probe = await h.account("user");
    for (let i = 0; i < 20; i++) expect((await ask(h, { uri: "/admin", cookie: probe.cookie })).statusCode).toBe(403);
    await new Promise((r) => setTimeout(r, 50));
    const events = await h.gh.audit.search({ limit: 200, type: "suspicious_activity", userId: probe.id } as Parameters<typeof h.gh.audit.search>[0]);
    expect(events.events.filter((e) => e.details.what === "forward_auth_denied")).toHaveLength(1);
  });
});
