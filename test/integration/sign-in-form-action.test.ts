import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { rulesFile } from "../helpers/forward-auth.js";

const RULES = `access_control:
  default_policy: deny
  rules:
    - domain: ["app.example.test", "*.apps.example.test"]
      policy: one_factor
`;

/** The `form-action` directive of a page's CSP. */
function formAction(csp: unknown): string {
  return /(?:^|;)form-action ([^;]*)/.exec(String(csp))?.[1] ?? "(none)";
}

// Chromium checks a form's `form-action` against every redirect that follows
// the submission: the sign-in page must list where its 303 may lead
// (docs/adr/0006). The real-browser proof is test/browser/proxied-sign-in.test.ts.
describe.each(backendNames())("sign-in page form-action lists exactly the protected origins (%s)", (backend) => {
  let h: Harness;
  let path: string;
  let name: string;
  beforeAll(async () => {
    path = rulesFile(RULES);
    h = await startHarness(backend, { PUBLIC_URL: "https://auth.example.test", GATEHOUSE_CONFIG: path, UPSTREAM_URL: "http://127.0.0.1:9" });
    // Made through the account service: with UPSTREAM_URL the harness's default host is a proxied one.
    name = `formaction${process.pid % 1000}`;
    await h.gh.accounts.register({ username: name, password: GOOD_PASSWORD }, { ip: "127.0.0.1", userAgent: "test" }, { signIn: false });
  });
  afterAll(async () => h?.close());

  it("on the portal: 'self' and every host of the rules, https, any port", async () => {
    const res = await h.request({ method: "GET", url: "/login", headers: { host: "auth.example.test" } });
    expect(res.statusCode).toBe(200);
    expect(formAction(res.headers["content-security-policy"])).toBe("'self' https://app.example.test:* https://*.apps.example.test:*");
  });

  it("on a proxied app host (under the prefix): the portal's origin is listed too, since 'self' is the app there", async () => {
    const res = await h.request({ method: "GET", url: "/.gatehouse/login", headers: { host: "app.example.test" } });
    expect(res.statusCode).toBe(200);
    expect(formAction(res.headers["content-security-policy"])).toBe("'self' https://auth.example.test https://app.example.test:* https://*.apps.example.test:*");
  });

  it("the sign-in's 303 goes to an origin the form's page lists", async () => {
    const b = new WebClient(h);
    const page = await b.get("/login?return=https%3A%2F%2Fwiki.apps.example.test%3A8443%2Fx%3Fy%3D1", { host: "auth.example.test" });
    const res = await b.post("/login", { username: name, password: GOOD_PASSWORD, return: "https://wiki.apps.example.test:8443/x?y=1" }, { host: "auth.example.test" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("https://wiki.apps.example.test:8443/x?y=1");
    expect(formAction(page.headers["content-security-policy"]).split(" ")).toContain("https://*.apps.example.test:*");
  });

  it("attack: open redirect after sign-in to a host no rule names — refused, and not listed in form-action either", async () => {
    const b = new WebClient(h);
    const page = await b.get("/login", { host: "auth.example.test" });
    const res = await b.post("/login", { username: name, password: GOOD_PASSWORD, return: "https://evil.test/phish" }, { host: "auth.example.test" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/account");
    expect(String(page.headers["content-security-policy"])).not.toContain("evil.test");
  });

  it("follows the rules file: a SIGHUP reload adds a new host and drops a removed one", async () => {
    writeFileSync(path, RULES.replace(`["app.example.test", "*.apps.example.test"]`, `["app.example.test", "new.example.test"]`));
    try {
      expect(h.gh.reloadRules()).toBe(true);
      const res = await h.request({ method: "GET", url: "/login", headers: { host: "auth.example.test" } });
      expect(formAction(res.headers["content-security-policy"])).toBe("'self' https://app.example.test:* https://new.example.test:*");
    } finally {
      writeFileSync(path, RULES);
      h.gh.reloadRules();
    }
  });
});
