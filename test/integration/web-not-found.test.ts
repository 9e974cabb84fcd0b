import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "../helpers/harness.js";

// No storage involved: one backend.
describe("dead links: a page for people, JSON for API clients", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness("sqlite");
  });
  afterAll(async () => h?.close());

  it("a browser following a dead link gets an HTML 404 with a way back, the path never echoed", async () => {
    const res = await h.request({ method: "GET", url: "/no-such-page/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers: { accept: "text/html,application/xhtml+xml" } });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain('data-error="not_found"');
    expect(res.body).toContain('href="/login"');
    expect(res.body).not.toContain("alert(1)");
    expect(res.headers["x-frame-options"]).toBe("DENY");
  });

  it("under /api/ (and for non-HTML clients) the 404 stays the JSON error of docs/api.md", async () => {
    const api = await h.request({ method: "GET", url: "/api/nope", headers: { accept: "text/html" } });
    expect(api.statusCode).toBe(404);
    expect(api.json()).toEqual({ error: expect.any(String), code: "not_found" });
    const script = await h.request({ method: "GET", url: "/no-such-page" });
    expect(script.json().code).toBe("not_found");
  });
});
