import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const EVIL = "evil-7f3a";

/**
 * Headers other authenticating proxies and frameworks trust, as a client would
 * forge them, in several spellings (CGI-style stacks read `_` as `-`).
 */
const SMUGGLED: Record<string, string> = {
  // oauth2-proxy
  "X-Forwarded-User": `${EVIL}-admin`,
  "X-Forwarded-Groups": `${EVIL}-superadmin`,
  "X-Forwarded-Email": `${EVIL}@boss.test`,
  "X-Forwarded-Preferred-Username": `${EVIL}-root`,
  "X-Forwarded-Access-Token": `${EVIL}-token`,
  "X-Auth-Request-User": `${EVIL}-admin`,
  "X-Auth-Request-Email": `${EVIL}@boss.test`,
  "X-Auth-Request-Groups": `${EVIL}-admins`,
  X_Auth_Request_Preferred_Username: `${EVIL}-root`,
  // Pomerium
  "X-Pomerium-Jwt-Assertion": `${EVIL}.jwt`,
  "X-Pomerium-Claim-Email": `${EVIL}@boss.test`,
  // Cloudflare Access
  "Cf-Access-Authenticated-User-Email": `${EVIL}@boss.test`,
  "Cf-Access-Jwt-Assertion": `${EVIL}.jwt`,
  "CF-Connecting-IP": "203.0.113.66",
  // Path, host, scheme and method overrides (IIS, Symfony, Werkzeug, Rails…)
  "X-Original-URL": `/admin/${EVIL}`,
  "X-Rewrite-URL": `/admin/${EVIL}`,
  "X-Original-Host": `${EVIL}.test`,
  "X-Forwarded-Server": `${EVIL}.test`,
  "X-Forwarded-Port": "6666",
  "X-Forwarded-Prefix": `/${EVIL}`,
  "X-Forwarded-Ssl": "on",
  "X-Forwarded-Uri": `/admin/${EVIL}`,
  "X-Forwarded-Method": "DELETE",
  "X-Url-Scheme": "gopher",
  "Front-End-Https": "on",
  "X-HTTP-Method-Override": "DELETE",
  // Client address
  Forwarded: "for=203.0.113.66;proto=https",
  "X-Real-IP": "203.0.113.66",
  "X-Client-IP": "203.0.113.66",
  "True-Client-IP": "203.0.113.66",
  "X-Cluster-Client-IP": "203.0.113.66",
  "X-ProxyUser-Ip": "203.0.113.66",
  "X-Remote-User": `${EVIL}-admin`,
  "X-Remote-Addr": "203.0.113.66",
  // Authelia / Gatehouse, underscore spelling
  Remote_User: `${EVIL}-admin`,
  // The operator's own convention (PROXY_STRIP_HEADERS=X-Corp-User,X-Corp-Auth-*)
  "X-Corp-User": `${EVIL}-admin`,
  X_Corp_Auth_Role: `${EVIL}-superadmin`,
};

/** Headers the app needs, which must still arrive. */
const KEPT = { authorization: "Bearer app-own-token", "x-app-trace": "t-1" };

/** The headers Gatehouse sets itself on every forwarded request (with its own values). */
const SET_BY_GATEHOUSE = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "remote-user", "remote-email", "remote-name", "remote-groups"]);

const norm = (name: string) => name.toLowerCase().replaceAll("_", "-");

describe.each(backendNames())("attack: identity headers of other proxies smuggled to the app (oauth2-proxy, Pomerium, Cloudflare Access, path overrides) (%s)", (backend) => {
  let p: ProxyHarness;
  let user: { name: string };
  let cookie: string;

  beforeAll(async () => {
    p = await startProxyHarness(backend, { PROXY_STRIP_HEADERS: "X-Corp-User, X-Corp-Auth-*" });
    user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  /** What the app received: none of the smuggled headers, in any spelling, and none of their values. */
  function assertNothingSmuggled(headers: Record<string, unknown>): void {
    const exact = new Set(Object.keys(headers).map((n) => n.toLowerCase()));
    const received = new Set(Object.keys(headers).map(norm));
    const arrived = Object.keys(SMUGGLED).filter((name) => exact.has(name.toLowerCase()) || (received.has(norm(name)) && !SET_BY_GATEHOUSE.has(norm(name))));
    expect(arrived).toEqual([]);
    const text = JSON.stringify(headers);
    expect(text).not.toContain(EVIL);
    expect(text).not.toContain("203.0.113.66");
    expect(text).not.toContain("gopher");
    // Gatehouse's own forwarding headers, with its own values.
    expect(headers["x-forwarded-host"]).toBe(APP_HOST);
    expect(headers["x-forwarded-proto"]).toBe("http");
    expect(headers["x-forwarded-for"]).toBe("127.0.0.1");
    // The app's own credentials and headers pass.
    expect(headers.authorization).toBe(KEPT.authorization);
    expect(headers["x-app-trace"]).toBe(KEPT["x-app-trace"]);
  }

  it("anonymous, on a bypass rule: none of them reaches the app", async () => {
    const res = await p.h.request({ method: "GET", url: "/public/index.html", headers: { host: APP_HOST, ...SMUGGLED, ...KEPT } });
    expect(res.statusCode).toBe(200);
    expect(p.upstream.seen).toHaveLength(1);
    const seen = p.upstream.seen[0]!;
    expect(seen.url).toBe("/public/index.html");
    expect(seen.method).toBe("GET");
    expect(seen.headers["remote-user"]).toBe("");
    assertNothingSmuggled(seen.headers);
  });

  it("signed in: the app sees the real user in Remote-User and nothing smuggled", async () => {
    const res = await p.h.request({ method: "POST", url: "/api/orders", cookie, payload: "{}", headers: { host: APP_HOST, origin: APP_ORIGIN, "content-type": "application/json", ...SMUGGLED, ...KEPT } });
    expect(res.statusCode).toBe(200);
    const seen = p.upstream.seen[0]!;
    expect(seen.method).toBe("POST");
    expect(seen.headers["remote-user"]).toBe(user.name);
    expect(seen.headers["remote-groups"]).toBe("user");
    assertNothingSmuggled(seen.headers);
  });

  it("a WebSocket upgrade carries none of them either", async () => {
    const base = await listen(p.h);
    const socket = new WebSocket(`${base.replace("http", "ws")}/ws`, { headers: { host: APP_HOST, origin: APP_ORIGIN, cookie, ...SMUGGLED, ...KEPT } });
    try {
      const hello = JSON.parse(String(await new Promise((resolve, reject) => {
        socket.once("message", resolve);
        socket.once("error", reject);
      }))) as { hello: { headers: Record<string, unknown> } };
      expect(hello.hello.headers["remote-user"]).toBe(user.name);
      assertNothingSmuggled(hello.hello.headers);
    } finally {
      socket.terminate();
    }
  });
});
