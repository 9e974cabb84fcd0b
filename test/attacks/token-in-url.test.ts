import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { ME, meStatus, tokenOf, uname } from "../helpers/attacks.js";

describe.each(backendNames())("attack: session token smuggled outside the cookie (%s)", (backend) => {
  let h: Harness;
  let cookie: string;
  let token: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    ({ cookie } = await h.register(uname("urltoken")));
    token = tokenOf(cookie);
  });
  afterAll(async () => h?.close());

  it("the stolen token is live (control: with the cookie it works)", async () => {
    expect(await meStatus(h, cookie)).toBe(200);
  });

  it.each(["session", "access_token", "gatehouse_session", "__Host-gatehouse_session", "token", "sid"])(
    "token in URL: GET /api/auth/me?%s=<valid token> without a cookie is 401",
    async (param) => {
      const res = await h.request({ method: "GET", url: `${ME}?${param}=${encodeURIComponent(token)}` });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("unauthenticated");
    },
  );

  it("token in URL: a path-parameter style ;jsessionid=<token> is not a session either", async () => {
    const res = await h.request({ method: "GET", url: `${ME};gatehouse_session=${token}` });
    expect(res.statusCode).not.toBe(200);
    expect(res.body).not.toContain('"user"');
  });

  it("token in body: a JSON field carrying the token authenticates nothing (401)", async () => {
    for (const field of ["session", "gatehouse_session", "access_token", "token"]) {
      const res = await h.request({
        method: "GET",
        url: ME,
        payload: JSON.stringify({ [field]: token }),
        headers: { "content-type": "application/json" },
      });
      expect(res.statusCode, field).toBe(401);
    }
  });

  it("token in body: a state-changing route does not take the token from a JSON field (401, password unchanged)", async () => {
    const res = await h.request({
      method: "POST",
      url: "/api/account/password",
      json: { session: token, currentPassword: GOOD_PASSWORD, newPassword: "velvet-harbor-compass-77" },
    });
    expect(res.statusCode).toBe(401);
    expect(await meStatus(h, cookie)).toBe(200);
  });

  it("token in header: the session token is not accepted as a custom header (X-Session-Token, X-Gatehouse-Session)", async () => {
    for (const name of ["x-session-token", "x-gatehouse-session", "x-auth-token"]) {
      const res = await h.request({ method: "GET", url: ME, headers: { [name]: token } });
      expect(res.statusCode, name).toBe(401);
    }
  });
});
