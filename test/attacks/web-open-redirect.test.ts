import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/attacks.js";

/** The REDIR-01 payload list, as the attacker would put them in the query string (raw, not re-encoded). */
const PAYLOADS = [
  "//evil.test",
  "/\\evil.test",
  "\\\\evil.test",
  "/%09/evil.test",
  "/%2F%2Fevil.test",
  "%2F%2Fevil.test",
  "https://evil.test",
  "https:evil.test",
  "https://gw.test.evil.test",
  "https://evilgw.test",
  "https://gw.test@evil.test",
  "http://localhost:8080@evil.test",
  "http://localhost:8080.evil.test",
  "javascript:alert(1)",
  "data:text/html,x",
  "/%0d%0aSet-Cookie:x=y",
  "%0d%0aSet-Cookie:x=y",
  "/\t/evil.test",
];

/** Location stays on Gatehouse: a single-slash path with no scheme, host, backslash or control character. */
function expectSameOrigin(location: string | undefined, publicUrl: string) {
  expect(location).toBeDefined();
  const loc = String(location);
  const resolved = new URL(loc, publicUrl);
  expect(resolved.origin, loc).toBe(new URL(publicUrl).origin);
  expect(loc).not.toMatch(/[\\\r\n\t]/);
  expect(loc.startsWith("//")).toBe(false);
}

describe.each(backendNames())("attack: open redirect through the sign-in return target (%s)", (backend) => {
  let h: Harness;
  let name: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    name = uname("redir");
    await h.register(name);
  });
  afterAll(async () => h?.close());

  it("REDIR-01: every payload in the login form's return field lands on Gatehouse after signing in", async () => {
    for (const payload of PAYLOADS) {
      const b = new WebClient(h);
      await b.get("/login");
      const res = await b.post("/login", { username: name, password: GOOD_PASSWORD, return: decodeURIComponent(payload.replace(/%(?![0-9a-f]{2})/gi, "%25")) });
      expect(res.statusCode, payload).toBe(303);
      expectSameOrigin(res.headers.location as string, h.publicUrl);
      expect(res.headers.location, payload).toBe("/account");
      expect(res.cookies.map((c) => c.name)).not.toContain("x");
    }
  });

  it("REDIR-01: every payload in ?return= of an already signed-in visit to /login stays on Gatehouse", async () => {
    const b = new WebClient(h);
    await b.signIn(name, GOOD_PASSWORD);
    for (const payload of PAYLOADS) {
      const res = await h.request({ method: "GET", url: `/login?return=${payload.replace(/\t/g, "%09")}`, cookie: b.cookie });
      expect(res.statusCode, payload).toBe(303);
      expectSameOrigin(res.headers.location as string, h.publicUrl);
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("a return to the sign-in page itself cannot make a redirect loop", async () => {
    const b = new WebClient(h);
    await b.signIn(name, GOOD_PASSWORD);
    for (const target of ["/login", "/login?return=/login", "/register"]) {
      const res = await b.get(`/login?return=${encodeURIComponent(target)}`);
      expect(res.headers.location, target).toBe("/account");
    }
  });

  it("a safe same-origin path is honoured, query included", async () => {
    const b = new WebClient(h);
    await b.get("/login");
    const res = await b.post("/login", { username: name, password: GOOD_PASSWORD, return: "/account?x=1" });
    expect(res.headers.location).toBe("/account?x=1");
  });
});
