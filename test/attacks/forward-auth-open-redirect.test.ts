import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

/** The return target carried by a login redirect. */
function returnOf(location: string): string {
  const url = new URL(location);
  expect(url.origin).toBe("https://gw.test");
  expect(url.pathname).toBe("/login");
  return url.searchParams.get("return") ?? "";
}

describe.each(backendNames())("attack: open redirect through forward-auth (REDIR-01, FWD-05) (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) });
  });
  afterAll(async () => h?.close());

  it.each(["evil.test", "gw.test.evil.test", "evilgw.test", "app.example.test.evil.test", "app.example.test@evil.test", "evil.test#app.example.test"])(
    "open redirect: a trusted proxy forwarding X-Forwarded-Host %j never sends the login back there",
    async (host) => {
      const res = await ask(h, { host, uri: "/", accept: "text/html" });
      if (res.statusCode === 302) expect(returnOf(String(res.headers.location))).toBe("/");
      else expect(res.statusCode).toBe(403);
      expect(String(res.headers.location ?? "")).not.toMatch(/evil/);
    },
  );

  it.each(["//evil.test", "/\\evil.test", "/%09/evil.test", "/%2F%2Fevil.test", "/%0d%0aSet-Cookie:x=y"])(
    "open redirect: the forwarded URI %j cannot turn the return URL into another origin",
    async (uri) => {
      const res = await ask(h, { uri, accept: "text/html" });
      if (res.statusCode === 302) {
        const target = returnOf(String(res.headers.location));
        expect(target === "/" || target.startsWith("https://app.example.test/")).toBe(true);
      } else expect(res.statusCode).toBe(403);
      expect(res.headers["set-cookie"]).toBeUndefined();
    },
  );

  it.each(["https://evil.test/", "//evil.test", "https:evil.test", "javascript:alert(1)"])("open redirect: an `rd` or `return` parameter %j is ignored", async (rd) => {
    const res = await h.gh.app.inject({
      method: "GET",
      url: `/api/authz/forward-auth?rd=${encodeURIComponent(rd)}&return=${encodeURIComponent(rd)}`,
      remoteAddress: PROXY,
      headers: { accept: "text/html", "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test", "x-forwarded-uri": "/home" },
    });
    expect(res.statusCode).toBe(302);
    expect(returnOf(String(res.headers.location))).toBe("https://app.example.test/home");
  });

  it("open redirect: a plain-http original URL is not a return target of an https portal", async () => {
    const res = await ask(h, { uri: "/home", accept: "text/html", headers: { "x-forwarded-proto": "http" } });
    expect(res.statusCode).toBe(302);
    expect(returnOf(String(res.headers.location))).toBe("/");
  });
});
