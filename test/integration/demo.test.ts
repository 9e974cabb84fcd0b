import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";

const HTML = { accept: "text/html,application/xhtml+xml" };

describe.each(backendNames())("the built-in demo app: no upstream configured (%s)", (backend) => {
  let h: Harness;
  let user: { cookie: string; name: string };
  let admin: { cookie: string; name: string };

  beforeAll(async () => {
    h = await startHarness(backend);
    user = await h.account("user");
    admin = await h.account("admin");
  });
  afterAll(async () => h?.close());

  it("a browser at / is led to /demo/, and from there to the sign-in page with a return URL", async () => {
    const home = await h.request({ method: "GET", url: "/", headers: HTML });
    expect(home.statusCode).toBe(302);
    expect(home.headers.location).toBe("/demo/");
    const demo = await h.request({ method: "GET", url: "/demo/", headers: HTML });
    expect(demo.statusCode).toBe(302);
    const login = new URL(String(demo.headers.location), h.publicUrl);
    expect(login.pathname).toBe("/login");
    expect(login.searchParams.get("return")).toMatch(/\/demo\/$/);
  });

  it("Gatehouse's own API and pages stay at the root", async () => {
    expect((await h.request({ method: "GET", url: "/login", headers: HTML })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("an API client without a session gets 401, not a redirect", async () => {
    const res = await h.request({ method: "GET", url: "/demo/api/whoami" });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("unauthenticated");
  });

  it("a signed-in user sees the identity headers Gatehouse injected", async () => {
    const res = await h.request({ method: "GET", url: "/demo/api/whoami", cookie: user.cookie });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ "remote-user": user.name, "remote-email": `${user.name}@example.test`, "remote-name": user.name, "remote-groups": "user" });
    const page = await h.request({ method: "GET", url: "/demo/", cookie: user.cookie, headers: HTML });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).toContain(user.name);
  });

  it("forged Remote-User / Remote-Groups from the browser never reach the demo app", async () => {
    const res = await h.request({
      method: "GET",
      url: "/demo/api/whoami",
      cookie: user.cookie,
      headers: { "remote-user": "admin", "remote-groups": "superadmin", remote_email: "boss@evil.test" },
    });
    expect(res.json()["remote-user"]).toBe(user.name);
    expect(res.json()["remote-groups"]).toBe("user");
    expect(res.json()["remote-email"]).toBe(`${user.name}@example.test`);
  });

  it("/demo/admin is for admins only: a user gets 403, an admin the page", async () => {
    const denied = await h.request({ method: "GET", url: "/demo/admin", cookie: user.cookie, headers: HTML });
    expect(denied.statusCode).toBe(403);
    // A browser gets the portal's error page, an API client the JSON error.
    expect(denied.headers["content-type"]).toContain("text/html");
    expect(denied.body).toContain("Not allowed");
    const api = await h.request({ method: "GET", url: "/demo/admin", cookie: user.cookie });
    expect(api.json()).toEqual({ error: "You are not allowed to do this", code: "forbidden" });
    const allowed = await h.request({ method: "GET", url: "/demo/admin", cookie: admin.cookie, headers: HTML });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toContain("Admin area");
    expect(allowed.body).toContain("user,admin");
  });

  it("path tricks do not reach /demo/admin as a user", async () => {
    for (const url of ["/demo//admin", "/demo/./admin", "/demo/x/../admin", "/demo/%61dmin", "/demo/admin%2f", "/demo/admin;x=y", "/demo/admin%00"]) {
      const res = await h.request({ method: "GET", url, cookie: user.cookie });
      expect([400, 403], url).toContain(res.statusCode);
    }
  });
});
