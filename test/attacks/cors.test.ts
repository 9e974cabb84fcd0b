import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { uname } from "../helpers/attacks.js";

/** Every CORS header a response carries (none may exist: Gatehouse has no CORS). */
const corsHeaders = (res: LightMyRequestResponse) => Object.keys(res.headers).filter((name) => name.toLowerCase().startsWith("access-control-"));

describe.each(backendNames())("attack: cross-origin reads through CORS (CSRF-06) (%s)", (backend) => {
  let h: Harness;
  let cookie: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    ({ cookie } = await h.register(uname("corsvictim")));
  });
  afterAll(async () => h?.close());

  it.each(["https://evil.test", "null", "http://localhost:8080.evil.test"])(
    "a credentialed read of /api/auth/me from Origin %s gets no Access-Control-Allow-* header, so the browser hides the answer",
    async (origin) => {
      const res = await h.request({ method: "GET", url: "/api/auth/me", cookie, headers: { origin } });
      expect(res.statusCode).toBe(200);
      expect(corsHeaders(res)).toEqual([]);
    },
  );

  it("a preflight asking to send X-Requested-With or X-CSRF-Token from another origin is 405, with no CORS header", async () => {
    for (const url of ["/api/auth/me", "/api/account/password", "/api/admin/users"]) {
      const res = await h.request({
        method: "OPTIONS",
        url,
        cookie,
        headers: { origin: "https://evil.test", "access-control-request-method": "POST", "access-control-request-headers": "x-requested-with, x-csrf-token, content-type" },
      });
      expect(res.statusCode, url).toBe(405);
      expect(corsHeaders(res), url).toEqual([]);
    }
  });

  it("no origin is ever echoed, the public one included: there is no CORS to misconfigure", async () => {
    const res = await h.request({ method: "GET", url: "/api/auth/me", cookie, headers: { origin: h.publicUrl } });
    expect(corsHeaders(res)).toEqual([]);
  });
});
