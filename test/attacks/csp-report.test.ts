import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../helpers/harness.js";

// The endpoint touches no storage, so one backend is enough.
describe("CSP violation reports (HDR-02): logged for the operator, never a way in", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => h?.close());

  const report = (contentType: string, body: string, headers: Record<string, string> = {}) =>
    h.gh.app.inject({ method: "POST", url: "/api/csp-report", headers: { "content-type": contentType, ...headers }, payload: body });

  it("every page names the report endpoint in its CSP and in Reporting-Endpoints", async () => {
    const page = await h.request({ method: "GET", url: "/login" });
    expect(String(page.headers["content-security-policy"])).toMatch(/report-uri \/api\/csp-report;report-to csp$/);
    expect(page.headers["reporting-endpoints"]).toBe('csp="/api/csp-report"');
  });

  it("a report-uri report is logged as one warning, without the query string that could carry a token", async () => {
    const body = JSON.stringify({
      "csp-report": { "document-uri": "http://localhost/reset-password?token=leaky-secret-value", "violated-directive": "script-src-elem", "blocked-uri": "inline" },
    });
    // Browsers send reports without an Origin the cross-site rule would accept: the route takes them anyway.
    const res = await report("application/csp-report", body, { "sec-fetch-site": "cross-site" });
    expect(res.statusCode).toBe(204);
    const logs = h.logs.text();
    expect(logs).toContain("content security policy violation reported");
    expect(logs).toContain("script-src-elem");
    expect(logs).toContain("http://localhost/reset-password");
    expect(logs).not.toContain("leaky-secret-value");
  });

  it("a Reporting API batch is read too; log injection through a field stays on one line", async () => {
    const body = JSON.stringify([
      { type: "csp-violation", body: { documentURL: "http://localhost/account", effectiveDirective: "style-src-elem\n{\"level\":60,\"msg\":\"forged\"}", blockedURL: "https://evil.test/x.css" } },
      { type: "deprecation", body: { id: "x" } },
    ]);
    expect((await report("application/reports+json", body)).statusCode).toBe(204);
    const lines = h.logs.text().split("\n").filter((l) => l.includes("evil.test/x.css"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/"level":60,"msg":"forged"/);
  });

  it("junk, the wrong type and oversized bodies: never a 500", async () => {
    expect((await report("application/csp-report", "{not json")).statusCode).toBe(204);
    expect((await report("text/plain", "hello")).statusCode).toBe(415);
    expect((await report("application/csp-report", JSON.stringify({ "csp-report": { "document-uri": "x".repeat(20_000) } }))).statusCode).toBe(413);
  });
});
