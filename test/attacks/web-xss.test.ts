import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/attacks.js";

const IMG = "<img src=x onerror=alert(1)>";
const SVG = '"><svg onload=alert(1)>';

/** The page contains the payload only escaped: no raw tag, no attribute break-out. */
function expectEscaped(body: string, payload: string) {
  expect(body).not.toContain(payload);
  expect(body).not.toMatch(/<img src=x|<svg onload/);
}

describe.each(backendNames())("attack: stored and reflected XSS in the web pages (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("HDR-06: a User-Agent carrying markup is shown literally (escaped) in the sessions list", async () => {
    const name = uname("uaxss");
    await h.register(name);
    for (const payload of [IMG, SVG]) {
      const evil = new WebClient(h);
      evil.userAgent = `Mozilla/5.0 ${payload}`;
      await evil.signIn(name, GOOD_PASSWORD);
    }
    const b = new WebClient(h);
    await b.signIn(name, GOOD_PASSWORD);
    const page = await b.get("/account");
    expect(page.statusCode).toBe(200);
    for (const payload of [IMG, SVG]) expectEscaped(page.body, payload);
    expect(page.body).toContain("Mozilla/5.0 &lt;img src=x onerror=alert(1)&gt;");
    expect(page.body).toContain("Mozilla/5.0 &quot;&gt;&lt;svg onload=alert(1)&gt;");
  });

  it("HDR-06: a username and an email written straight into the database (as an import or IdP could) are escaped everywhere", async () => {
    const name = uname("dbxss");
    await h.register(name);
    const b = new WebClient(h);
    await b.signIn(name, GOOD_PASSWORD);
    await h.gh.database.db.updateTable("users").set({ username: IMG, email: `x${SVG}@example.test` }).where("username_normalized", "=", name.toLowerCase()).execute();
    h.gh.sessions.forgetAll();
    const page = await b.get("/account");
    expect(page.statusCode).toBe(200);
    expectEscaped(page.body, IMG);
    expectEscaped(page.body, SVG);
    expect(page.body).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("HDR-06: an API token name with markup is escaped in the list and in the shown-once box", async () => {
    const name = uname("tokxss");
    await h.register(name);
    const b = new WebClient(h);
    await b.signIn(name, GOOD_PASSWORD);
    await b.get("/account");
    const created = await b.post("/account/tokens", { name: SVG, scopes: "read:account", expiresInDays: "7" });
    expect(created.statusCode).toBe(200);
    expectEscaped(created.body, SVG);
    expectEscaped((await b.get("/account")).body, SVG);
  });

  it("reflected XSS: the return parameter, a re-shown login name and an unknown notice are escaped or dropped", async () => {
    const b = new WebClient(h);
    const page = await b.get(`/login?return=${encodeURIComponent(SVG)}&notice=${encodeURIComponent(IMG)}`);
    expectEscaped(page.body, SVG);
    expectEscaped(page.body, IMG);
    expect(page.body).toContain('name="return" value="&quot;&gt;&lt;svg onload=alert(1)&gt;"');
    const res = await b.post("/login", { username: SVG, password: "whatever-password-1" });
    expect(res.statusCode).toBe(401);
    expectEscaped(res.body, SVG);
    const reg = await b.get("/register");
    expect(reg.statusCode).toBe(200);
    const bad = await b.post("/register", { username: IMG, email: SVG, password: GOOD_PASSWORD });
    expect(bad.statusCode).toBe(400);
    expectEscaped(bad.body, IMG);
    expectEscaped(bad.body, SVG);
  });

  it("an injected inline script could not run anyway: the page CSP allows only scripts with this response's nonce", async () => {
    const page = await h.request({ method: "GET", url: "/login" });
    const csp = String(page.headers["content-security-policy"]);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]{24})'(;|$)/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(page.body).toContain(`nonce="${nonce}"`);
    // A fresh nonce on every response: one leaked in a page is worthless for the next.
    const again = await h.request({ method: "GET", url: "/login" });
    expect(String(again.headers["content-security-policy"])).not.toContain(`'nonce-${nonce}'`);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/base-uri 'none'/);
    expect(csp).toMatch(/object-src 'none'/);
  });

  it("clickjacking: pages refuse to be framed (frame-ancestors 'none', X-Frame-Options DENY), error pages too", async () => {
    for (const url of ["/login", "/register", "/account", "/setup", "/assets/gatehouse.css"]) {
      const res = await h.request({ method: "GET", url });
      expect(res.headers["x-frame-options"], url).toBe("DENY");
      expect(String(res.headers["content-security-policy"]), url).toMatch(/frame-ancestors 'none'/);
    }
  });
});
