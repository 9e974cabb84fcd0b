import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../harness.js";
import { proxySuiteRuns } from "./binaries.js";
import { browserSends, proxyRequest, sessionCookiesFrom, type ProxyRequest, type ProxyResponse } from "./client.js";
import { freePort } from "../processes.js";
import { startEchoUpstream, type EchoUpstream } from "../echo-upstream.js";
import { APP_HOST, OPEN_HOST, PORTAL_HOST, startListeningGatehouse, type ListeningGatehouse } from "./gatehouse-listener.js";
import type { RunningProxy } from "./proxy-process.js";

type StartProxy = (ports: { gatehouse: number; upstream: number }) => Promise<RunningProxy>;

const IDENTITY = ["remote-user", "remote-groups", "remote-email", "remote-name", "remote-jwt"];

const FORGED_JWT = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsImdyb3VwcyI6WyJzdXBlcmFkbWluIl19.";

/** Forged identity headers, in every spelling an app might read as the same variable. */
const FORGED: [string, string][] = [
  ["Remote-User", "admin"],
  ["Remote-Groups", "superadmin"],
  ["Remote-Email", "admin@example.com"],
  ["Remote-Name", "Administrator"],
  ["remote-user", "admin"],
  ["Remote_User", "admin"],
  ["Remote_Groups", "superadmin"],
  // An unsigned identity assertion (IDENTITY_JWT): the proxy must never pass a client's copy on.
  ["Remote-JWT", FORGED_JWT],
];

/** Path-confusion spellings of /admin (FWD-04 (docs/security-requirements.md#fwd-04)). */
const ADMIN_CONFUSIONS = ["/admin", "/Admin", "/admin/", "//admin", "/./admin", "/public/../admin", "/%61dmin", "/admin%2f", "/%2e%2e/admin", "/admin;x=y", "/admin%00"];

/** Every identity header (any spelling: `Remote_User` is HTTP_REMOTE_USER to CGI/WSGI apps) the app received, as name→values. */
function identitySeen(res: ProxyResponse, upstream: EchoUpstream): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  for (const req of upstream.saw(res.probe)) {
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const name = (req.rawHeaders[i] ?? "").toLowerCase().replace(/_/g, "-");
      if (!IDENTITY.includes(name)) continue;
      seen.set(name, [...(seen.get(name) ?? []), req.rawHeaders[i + 1] ?? ""]);
    }
  }
  return seen;
}

let signupSeq = 0;

/** Signs a new user up through the proxied portal, as a browser would; returns the response. */
function signUpThroughPortal(port: number): Promise<ProxyResponse> {
  const name = `portal${++signupSeq}x${process.pid % 10_000}`;
  return proxyRequest(port, {
    host: PORTAL_HOST,
    method: "POST",
    path: "/api/auth/register",
    headers: [
      ["Content-Type", "application/json"],
      ["Origin", `https://${PORTAL_HOST}`],
      ["Accept", "application/json"],
    ],
    body: JSON.stringify({ username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }),
  });
}

function describeResponse(res: ProxyResponse): string {
  return `status ${res.status}, location ${String(res.headers.location)}, body ${res.body.slice(0, 300)}`;
}

/** Asserts the request never reached the app. */
function expectNotForwarded(res: ProxyResponse, upstream: EchoUpstream): void {
  expect(upstream.saw(res.probe), `reached the app: ${describeResponse(res)}`).toHaveLength(0);
  expect(res.echoed).toBeNull();
  expect(res.status >= 200 && res.status < 300, describeResponse(res)).toBe(false);
}

/**
 * The end-to-end forward-auth attack suite (FWD-01..05 (docs/security-requirements.md#fwd-01)), run
 * against a real proxy configured with the docs/proxies template, an echo
 * upstream standing in for the app, and a Gatehouse on a loopback port.
 */
export function describeRealProxy(kind: "nginx" | "caddy", startProxy: StartProxy): void {
  describe.runIf(proxySuiteRuns(kind))(`attack: forged identity and confused paths through real ${kind} (docs/proxies)`, () => {
    let gh: ListeningGatehouse;
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    let user: { cookie: string; name: string };
    let admin: { cookie: string; name: string };
    const send = (req: Omit<ProxyRequest, "host"> & { host?: string }) => proxyRequest(proxy.port, { host: APP_HOST, ...req });

    beforeAll(async () => {
      upstream = await startEchoUpstream();
      gh = await startListeningGatehouse({ IDENTITY_JWT: "on" });
      proxy = await startProxy({ gatehouse: gh.port, upstream: upstream.port });
      user = await gh.h.account("user");
      admin = await gh.h.account("admin");
    });
    afterAll(async () => {
      await proxy?.stop();
      await gh?.close();
      await upstream?.close();
    });

    it("the portal host reaches Gatehouse itself", async () => {
      const res = await send({ host: PORTAL_HOST, path: "/healthz" });
      expect(res.status, describeResponse(res)).toBe(200);
      expect(res.echoed).toBeNull();
    });

    it("signing up through the proxied portal passes the origin check (PUBLIC_URL) and sets a host-only __Host- cookie that works there", async () => {
      const res = await signUpThroughPortal(proxy.port);
      expect(res.status, describeResponse(res)).toBe(201);
      const cookies = sessionCookiesFrom(res);
      expect(cookies.map((c) => [c.name, c.domain])).toEqual([["__Host-gatehouse_session", null]]);
      const me = await send({ host: PORTAL_HOST, path: "/api/auth/me", cookie: `${cookies[0]?.name}=${cookies[0]?.value}` });
      expect(me.status, describeResponse(me)).toBe(200);
    });

    it("a signed-in user reaches the app with Remote-User, Remote-Groups, Remote-Email and Remote-Name from Gatehouse", async () => {
      const res = await send({ path: "/dashboard?tab=1", cookie: user.cookie });
      expect(res.status, describeResponse(res)).toBe(200);
      expect(res.echoed?.url).toBe("/dashboard?tab=1");
      const seen = identitySeen(res, upstream);
      expect(seen.get("remote-user")).toEqual([user.name]);
      expect(seen.get("remote-groups")?.[0]?.split(",").map((g) => g.trim())).toContain("user");
      expect(seen.get("remote-groups")?.[0]).not.toMatch(/admin/);
      expect(seen.get("remote-email")).toEqual([`${user.name}@example.test`]);
    });

    it("an admin reaches /admin, with admin in Remote-Groups (control for the denied-path attacks)", async () => {
      const res = await send({ path: "/admin", cookie: admin.cookie });
      expect(res.status, describeResponse(res)).toBe(200);
      const seen = identitySeen(res, upstream);
      expect(seen.get("remote-user")).toEqual([admin.name]);
      expect(seen.get("remote-groups")?.[0]?.split(",").map((g) => g.trim())).toContain("admin");
    });

    it("forged Remote-User: admin / Remote-Groups: superadmin on a bypass rule never reach the app", async () => {
      const res = await send({ path: "/public/page", headers: FORGED });
      expect(res.status, describeResponse(res)).toBe(200);
      const seen = identitySeen(res, upstream);
      for (const [name, values] of seen) expect(values.filter((v) => v !== ""), name).toEqual([]);
    });

    it("forged Remote-User: admin / Remote-Groups: superadmin on an authenticated rule are replaced by the real identity", async () => {
      const res = await send({ path: "/dashboard", cookie: user.cookie, headers: FORGED });
      expect(res.status, describeResponse(res)).toBe(200);
      const seen = identitySeen(res, upstream);
      expect(seen.get("remote-user")).toEqual([user.name]);
      expect(seen.get("remote-groups")).toHaveLength(1);
      expect(seen.get("remote-groups")?.[0]).not.toMatch(/admin/);
      expect(seen.get("remote-email")).toEqual([`${user.name}@example.test`]);
      expect(seen.get("remote-name") ?? []).not.toContain("Administrator");
      // The signed identity is Gatehouse's own (IDENTITY_JWT=on), never the client's copy.
      const jwts = seen.get("remote-jwt") ?? [];
      expect(jwts).toHaveLength(1);
      expect(jwts[0]).not.toBe(FORGED_JWT);
      expect(JSON.parse(Buffer.from(jwts[0]!.split(".")[1]!, "base64url").toString("utf8"))).toMatchObject({ preferred_username: user.name });
    });

    it("forged identity headers do not sign an anonymous client in (not forwarded)", async () => {
      expectNotForwarded(await send({ path: "/dashboard", headers: FORGED }), upstream);
    });

    it("anonymous browser navigation is redirected to the portal's login with a return URL on the protected host", async () => {
      const res = await send({ path: "/private/page?x=1", headers: [["Accept", "text/html,application/xhtml+xml"]] });
      expectNotForwarded(res, upstream);
      expect(res.status, describeResponse(res)).toBe(302);
      const location = String(res.headers.location);
      expect(new URL(location).origin).toBe(`https://${PORTAL_HOST}`);
      expect(decodeURIComponent(location)).toContain(`https://${APP_HOST}/private/page?x=1`);
    });

    it("an anonymous API call is refused, never forwarded", async () => {
      const res = await send({ path: "/api/things", headers: [["Accept", "application/json"]] });
      expectNotForwarded(res, upstream);
      expect([302, 401]).toContain(res.status);
    });

    it.each(ADMIN_CONFUSIONS)("path confusion: a plain user's %s never reaches the app's /admin", async (path) => {
      const res = await send({ path, cookie: user.cookie });
      expectNotForwarded(res, upstream);
    });

    it("path confusion: an anonymous %2e%2e / // spelling of /admin is not forwarded either", async () => {
      for (const path of ["//admin", "/public/../admin", "/public/%2e%2e/admin", "/public/..%2fadmin"]) {
        expectNotForwarded(await send({ path }), upstream);
      }
    });

    it("a forged X-Forwarded-Host / X-Original-URL pointing at an open host does not let an anonymous client through", async () => {
      const res = await send({
        path: "/dashboard",
        headers: [
          ["X-Forwarded-Host", OPEN_HOST],
          ["X-Original-URL", `https://${OPEN_HOST}/`],
          ["X-Forwarded-Uri", "/public/x"],
          ["X-Forwarded-Proto", "https"],
          ["X-Forwarded-Method", "GET"],
          ["X-Original-Method", "GET"],
        ],
      });
      expectNotForwarded(res, upstream);
    });

    it("a forged X-Original-URL / X-Forwarded-Uri naming a public path does not open /admin to a plain user", async () => {
      const res = await send({
        path: "/admin",
        cookie: user.cookie,
        headers: [
          ["X-Original-URL", `https://${APP_HOST}/public/x`],
          ["X-Forwarded-Uri", "/public/x"],
          ["X-Forwarded-Host", OPEN_HOST],
        ],
      });
      expectNotForwarded(res, upstream);
      expect(res.status, describeResponse(res)).toBe(403);
    });

    it("WebSocket upgrade: an anonymous handshake is not forwarded; a signed-in one reaches the app with its identity", async () => {
      const ws: [string, string][] = [
        ["Connection", "Upgrade"],
        ["Upgrade", "websocket"],
        ["Sec-WebSocket-Version", "13"],
        ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ];
      expectNotForwarded(await send({ path: "/socket", headers: [...ws, ...FORGED] }), upstream);
      const res = await send({ path: "/socket", cookie: user.cookie, headers: [...ws, ...FORGED] });
      expect(res.status, describeResponse(res)).toBe(101);
      const [seen] = upstream.saw(res.probe);
      expect(seen?.headers.upgrade).toBe("websocket");
      expect(identitySeen(res, upstream).get("remote-user")).toEqual([user.name]);
    });

    it("a signed-out session is refused on its very next proxied request (no cached allow)", async () => {
      const victim = await gh.h.account("user");
      expect((await send({ path: "/dashboard", cookie: victim.cookie })).status).toBe(200);
      const out = await gh.h.request({ method: "POST", url: "/api/auth/logout", cookie: victim.cookie });
      expect(out.statusCode).toBe(204);
      expectNotForwarded(await send({ path: "/dashboard", cookie: victim.cookie }), upstream);
    });

    it("a forged X-Forwarded-Host does not leak into the login redirect (return URL stays on the protected host)", async () => {
      const res = await send({ path: "/private", headers: [["Accept", "text/html"], ["X-Forwarded-Host", "evil.test"], ["X-Original-URL", "https://evil.test/x"]] });
      expectNotForwarded(res, upstream);
      expect(String(res.headers.location ?? "")).not.toContain("evil.test");
    });
  });

  describe.runIf(proxySuiteRuns(kind))(`single sign-on through real ${kind}: one sign-in on the portal covers the app`, () => {
    it("with COOKIE_DOMAIN, the cookie a browser got from the portal signs it in on app.example.com (and only there)", async () => {
      const upstream = await startEchoUpstream();
      const gh = await startListeningGatehouse({ COOKIE_DOMAIN: ".example.com" });
      const proxy = await startProxy({ gatehouse: gh.port, upstream: upstream.port }).catch(async (err: unknown) => {
        await gh.close();
        await upstream.close();
        throw err;
      });
      try {
        const signup = await signUpThroughPortal(proxy.port);
        expect(signup.status, describeResponse(signup)).toBe(201);
        const name = (JSON.parse(signup.body) as { user: { username: string } }).user.username;
        const cookies = sessionCookiesFrom(signup);
        const sso = cookies.find((c) => c.domain === "example.com");
        expect(sso?.name, JSON.stringify(cookies)).toMatch(/^__Secure-/);
        const jar = cookies.filter((c) => browserSends(c, PORTAL_HOST, APP_HOST)).map((c) => `${c.name}=${c.value}`).join("; ");
        const res = await proxyRequest(proxy.port, { host: APP_HOST, path: "/dashboard", cookie: jar, headers: [["Accept", "text/html"]] });
        expect(res.status, describeResponse(res)).toBe(200);
        expect(identitySeen(res, upstream).get("remote-user")).toEqual([name]);
        // FWD-07: the shared cookie alone is no session for the portal's own API.
        const me = await proxyRequest(proxy.port, { host: PORTAL_HOST, path: "/api/auth/me", cookie: `${sso?.name}=${sso?.value}` });
        expect(me.status, describeResponse(me)).toBe(401);
      } finally {
        await proxy.stop();
        await gh.close();
        await upstream.close();
      }
    });
  });

  describe.runIf(proxySuiteRuns(kind))(`attack: Gatehouse's database down behind real ${kind} (fail closed)`, () => {
    let gh: ListeningGatehouse;
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    beforeAll(async () => {
      upstream = await startEchoUpstream();
      gh = await startListeningGatehouse();
      proxy = await startProxy({ gatehouse: gh.port, upstream: upstream.port });
    });
    afterAll(async () => {
      await proxy?.stop();
      // The database is already gone; closing it again may complain.
      await gh?.close().catch(() => undefined);
      await upstream?.close();
    });

    it("database stopped: a signed-in user's request is never forwarded (no 2xx from a failed decision)", async () => {
      const { cookie } = await gh.h.account("user");
      const ok = await proxyRequest(proxy.port, { host: APP_HOST, path: "/dashboard", cookie });
      expect(ok.status, describeResponse(ok)).toBe(200);
      await gh.h.gh.database.db.destroy();
      gh.h.clock.advance(60_000); // past any cached session lookup
      for (const path of ["/dashboard", "/admin"]) {
        const res = await proxyRequest(proxy.port, { host: APP_HOST, path, cookie, headers: FORGED });
        expectNotForwarded(res, upstream);
      }
    });
  });

  describe.runIf(proxySuiteRuns(kind))(`attack: Gatehouse unreachable behind real ${kind} (fail closed)`, () => {
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    beforeAll(async () => {
      upstream = await startEchoUpstream();
      // Nothing listens on this port: Gatehouse is down.
      proxy = await startProxy({ gatehouse: await freePort(), upstream: upstream.port });
    });
    afterAll(async () => {
      await proxy?.stop();
      await upstream?.close();
    });

    it("Gatehouse down: no request is forwarded, not even on a bypass path or with a session cookie", async () => {
      for (const req of [{ path: "/public/page" }, { path: "/dashboard", cookie: "__Host-gatehouse_session=whatever" }, { path: "/admin", headers: FORGED }]) {
        const res = await proxyRequest(proxy.port, { host: APP_HOST, ...req });
        expectNotForwarded(res, upstream);
        expect(res.status, describeResponse(res)).toBeGreaterThanOrEqual(500);
      }
      expect(upstream.seen).toHaveLength(0);
    });
  });
}
