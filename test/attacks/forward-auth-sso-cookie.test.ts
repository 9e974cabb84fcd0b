import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

const SSO = "__Secure-gatehouse_session";
const HOST = "__Host-gatehouse_session";

function cookieOf(res: LightMyRequestResponse, name: string) {
  const c = res.cookies.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} cookie (status ${res.statusCode})`);
  return c;
}

describe.each(backendNames())("attack: cookie tossing and SSO cookie misuse (FWD-07, SESS-03) (%s)", (backend) => {
  let h: Harness;
  let login: LightMyRequestResponse;
  let ssoCookie: string;
  let hostCookie: string;
  beforeAll(async () => {
    h = await startHarness(backend, {
      PUBLIC_URL: "https://auth.example.test",
      COOKIE_DOMAIN: ".example.test",
      TRUSTED_PROXIES: PROXY,
      GATEHOUSE_CONFIG: rulesFile(RULES),
    });
    const admin = await h.account("admin");
    login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: admin.name, password: GOOD_PASSWORD } });
    expect(login.statusCode).toBe(200);
    ssoCookie = `${SSO}=${cookieOf(login, SSO).value}`;
    hostCookie = `${HOST}=${cookieOf(login, HOST).value}`;
  });
  afterAll(async () => h?.close());

  it("two distinct cookies: the portal's is __Host- without Domain, the SSO one is __Secure- with Domain=parent", () => {
    const host = cookieOf(login, HOST);
    const sso = cookieOf(login, SSO);
    expect(host.domain).toBeUndefined();
    expect(host).toMatchObject({ secure: true, httpOnly: true, sameSite: "Lax", path: "/" });
    expect(sso).toMatchObject({ domain: "example.test", secure: true, httpOnly: true, sameSite: "Lax", path: "/" });
    expect(sso.value).not.toBe(host.value);
    expect(sso.value).not.toContain(host.value);
  });

  it("single sign-on: the SSO cookie alone passes forward-auth on any protected subdomain", async () => {
    const res = await ask(h, { uri: "/admin", cookie: ssoCookie });
    expect(res.statusCode).toBe(200);
    expect(res.headers["remote-groups"]).toBe("user,admin");
    expect((await ask(h, { host: "wiki.apps.example.test", uri: "/", cookie: ssoCookie })).statusCode).toBe(200);
  });

  it("the admin API (and the rest of the portal API) refuses the SSO cookie: 401", async () => {
    expect((await h.request({ method: "GET", url: "/api/admin/users", cookie: ssoCookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: ssoCookie })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/admin/users", cookie: hostCookie })).statusCode).toBe(200);
  });

  it("a sibling app that reads the SSO cookie cannot replay its value as the portal cookie", async () => {
    const value = ssoCookie.slice(SSO.length + 1);
    expect((await h.request({ method: "GET", url: "/api/admin/users", cookie: `${HOST}=${value}` })).statusCode).toBe(401);
  });

  it("cookie tossing: a forged, tampered or duplicated SSO cookie is no session", async () => {
    const value = ssoCookie.slice(SSO.length + 1);
    const flipped = `${value.slice(0, 20)}${value[20] === "A" ? "B" : "A"}${value.slice(21)}`;
    expect((await ask(h, { uri: "/x", cookie: `${SSO}=${flipped}` })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/x", cookie: `${SSO}=${"A".repeat(43)}` })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/x", cookie: `${SSO}=${hostCookie.slice(HOST.length + 1)}` })).statusCode).toBe(401);
    expect((await ask(h, { uri: "/x", cookie: `${ssoCookie}; ${SSO}=${flipped}` })).statusCode).toBe(401);
  });

  it("session swapping by cookie tossing: an SSO cookie tossed next to the portal's own cookie never overrides it", async () => {
    // The attacker's own valid SSO cookie, planted from a sibling subdomain next to the victim's host-only cookie.
    const attacker = await h.account("user");
    const theirs = await h.request({ method: "POST", url: "/api/auth/login", json: { username: attacker.name, password: GOOD_PASSWORD } });
    const tossed = `${SSO}=${cookieOf(theirs, SSO).value}`;
    const asVictim = await ask(h, { uri: "/x", cookie: `${hostCookie}; ${tossed}` });
    expect(asVictim.statusCode).toBe(200);
    expect(asVictim.headers["remote-user"]).not.toBe(attacker.name);
    expect(asVictim.headers["remote-groups"]).toBe("user,admin");
    // A host-only cookie that no longer names a session decides too: the tossed cookie does not sign the browser in.
    expect((await ask(h, { uri: "/x", cookie: `${HOST}=${"A".repeat(43)}; ${tossed}` })).statusCode).toBe(401);
  });

  it("logout clears both cookies and kills the SSO session for every subdomain", async () => {
    const admin = await h.account("user");
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: admin.name, password: GOOD_PASSWORD } });
    const sso = `${SSO}=${cookieOf(res, SSO).value}`;
    const host = `${HOST}=${cookieOf(res, HOST).value}`;
    expect((await ask(h, { uri: "/x", cookie: sso })).statusCode).toBe(200);
    const out = await h.request({ method: "POST", url: "/api/auth/logout", cookie: host });
    expect(out.statusCode).toBe(204);
    const cleared = out.cookies.find((c) => c.name === SSO);
    expect(cleared).toMatchObject({ domain: "example.test", value: "" });
    expect((await ask(h, { uri: "/x", cookie: sso })).statusCode).toBe(401);
  });

  it("COOKIE_DOMAIN is refused with a plain-http PUBLIC_URL or a PUBLIC_URL outside the domain", () => {
    const base = { NODE_ENV: "test", SECRET_KEY: "k".repeat(64), GATEHOUSE_DATA_DIR: h.backend.env.GATEHOUSE_DATA_DIR! };
    expect(() => loadConfig({ ...base, PUBLIC_URL: "http://auth.example.test", COOKIE_DOMAIN: ".example.test" })).toThrow(/COOKIE_DOMAIN needs an https PUBLIC_URL/);
    expect(() => loadConfig({ ...base, PUBLIC_URL: "https://auth.other.test", COOKIE_DOMAIN: ".example.test" })).toThrow(/COOKIE_DOMAIN must contain the PUBLIC_URL host/);
    expect(() => loadConfig({ ...base, PUBLIC_URL: "https://auth.example.test", COOKIE_DOMAIN: "test" })).toThrow(/COOKIE_DOMAIN must be a parent domain/);
  });
});
