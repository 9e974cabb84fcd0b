import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/attacks.js";

const IMG = "<img src=x onerror=alert(1)>";
const SVG = '"><svg onload=alert(1)>';
const IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;";
const SVG_ESCAPED = "&quot;&gt;&lt;svg onload=alert(1)&gt;";

/** The page has the payloads only escaped: no raw tag, no attribute break-out, no script. */
function expectInert(body: string) {
  expect(body).not.toContain(IMG);
  expect(body).not.toContain(SVG);
  expect(body).not.toMatch(/<img src=x|<svg onload|<script>/);
}

describe.each(backendNames())("attack: stored XSS in the admin dashboard (HDR-06) (%s)", (backend) => {
  let h: Harness;
  let admin: WebClient;
  let victimId: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    const acct = await h.account("admin", uname("xadm"));
    admin = new WebClient(h);
    const [k, v] = acct.cookie.split("=") as [string, string];
    admin.jar.set(k, v);
    // An email with markup passes registration (it has one @ and no spaces); usernames cannot carry
    // markup, so one is written straight into the database, as a restore or an identity provider could.
    const name = uname("xss");
    const res = await h.register(name, GOOD_PASSWORD, `${IMG.replace(/ /g, "/")}@evil.test`);
    victimId = res.res.json().user.id as string;
    for (const payload of [IMG, SVG]) {
      const evil = new WebClient(h);
      evil.userAgent = `Mozilla/5.0 ${payload}`;
      await evil.signIn(name, GOOD_PASSWORD);
      await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: "wrong-password-9" }, headers: { "user-agent": payload } });
    }
    await h.gh.database.db.updateTable("users").set({ username: `${IMG}${SVG}` }).where("id", "=", victimId).execute();
    await h.gh.audit.record({ type: "suspicious_activity", userId: victimId, ip: "192.0.2.66", userAgent: SVG, details: { note: IMG, [SVG]: "key" } });
    h.gh.sessions.forgetAll();
  });
  afterAll(async () => h?.close());

  it("a username, an email and a User-Agent with markup are shown literally in the users list", async () => {
    const page = await admin.get("/admin/users?q=%3Cimg");
    expect(page.statusCode).toBe(200);
    expectInert(page.body);
    const all = await admin.get("/admin/users");
    expectInert(all.body);
    expect(all.body).toContain(`${IMG_ESCAPED}${SVG_ESCAPED}`);
    expect(all.body).toContain("&lt;img/src=x/onerror=alert(1)&gt;@evil.test");
  });

  it("… on the user page: profile, sessions (User-Agent) and recent events (User-Agent, details)", async () => {
    const page = await admin.get(`/admin/users/${victimId}`);
    expect(page.statusCode).toBe(200);
    expectInert(page.body);
    expect(page.body).toContain(`Mozilla/5.0 ${IMG_ESCAPED}`);
    expect(page.body).toContain(`Mozilla/5.0 ${SVG_ESCAPED}`);
    expect(page.body).toContain(`note=${IMG_ESCAPED}`);
    // The role confirmation repeats the name: escaped too.
    const sup = await h.account("superadmin", uname("xsup"));
    const b = new WebClient(h);
    const [k, v] = sup.cookie.split("=") as [string, string];
    b.jar.set(k, v);
    await b.get(`/admin/users/${victimId}`);
    const confirm = await b.post(`/admin/users/${victimId}/role`, { role: "admin" });
    expect(confirm.statusCode).toBe(200);
    expectInert(confirm.body);
  });

  it("… on the audit page, and the filters echo typed text escaped", async () => {
    const page = await admin.get(`/admin/audit?user=${victimId}`);
    expect(page.statusCode).toBe(200);
    expectInert(page.body);
    expect(page.body).toContain(SVG_ESCAPED);
    const echoed = await admin.get(`/admin/audit?ip=${encodeURIComponent(SVG)}&user=${encodeURIComponent(IMG)}`);
    expect(echoed.statusCode).toBe(200);
    expectInert(echoed.body);
    expect(echoed.body).toContain(`value="${SVG_ESCAPED}"`);
    const search = await admin.get(`/admin/users?q=${encodeURIComponent(SVG)}`);
    expectInert(search.body);
    expect(search.body).toContain(`value="${SVG_ESCAPED}"`);
  });

  it("the pages carry the strict page CSP (no inline script could run even if markup slipped through)", async () => {
    const page = await admin.get("/admin");
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{24}'(;|$)/);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.body).not.toMatch(/<script>|\son[a-z]+=|style="/);
  });
});
