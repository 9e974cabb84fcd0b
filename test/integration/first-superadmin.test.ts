import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, PRODUCTION_LIMITS, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";

describe.each(backendNames())("first superadmin: no default credentials, a one-time setup link (%s)", (backend) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startHarness(backend, { ...PRODUCTION_LIMITS, RATE_LIMIT_LOGIN: "1000/1m", TRUSTED_PROXIES: "127.0.0.1" });
    const first = await h.gh.firstSuperadmin.ensure(null);
    if (first.status !== "setup") throw new Error(`expected a setup token, got ${first.status}`);
    token = first.token;
  });
  afterAll(async () => h?.close());

  const setup = (body: Record<string, unknown>, ip = "198.51.100.20") =>
    h.request({ method: "POST", url: "/api/setup", json: body, headers: { "x-forwarded-for": ip } });

  it("default credentials do not exist on a fresh instance", async () => {
    for (const [username, password] of [["admin", "admin"], ["root", "root"], ["admin", "password"], ["admin", "gatehouse"]]) {
      const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });
      expect(res.statusCode).toBe(401);
    }
  });

  it("the setup token is 256 bits and stored only as its SHA-256", async () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await h.gh.database.db.selectFrom("one_time_tokens").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it("setup takeover: a wrong token is 403 and guessing is throttled (the 11th try from one IP is 429)", async () => {
    expect((await h.request({ method: "GET", url: "/api/setup" })).json()).toEqual({ setup: "open" });
    const attacker = "203.0.113.66";
    for (let i = 0; i < 10; i++) {
      const res = await setup({ token: "x".repeat(43), username: `intruder${i}`, password: GOOD_PASSWORD }, attacker);
      expect(res.statusCode).toBe(403);
    }
    // Even the right token is refused from an IP that has been guessing.
    const eleventh = await setup({ token, username: "intruder", password: GOOD_PASSWORD }, attacker);
    expect(eleventh.statusCode).toBe(429);
  });

  it("a refused setup (username already taken) does not burn the one-time link", async () => {
    expect((await h.register("early-bird")).res.statusCode).toBe(201);
    const taken = await setup({ token, username: "Early-Bird", password: GOOD_PASSWORD });
    expect(taken.statusCode).toBe(409);
    expect((await h.request({ method: "GET", url: "/api/setup" })).json()).toEqual({ setup: "open" });
  });

  it("the holder of the link creates the superadmin once; afterwards the setup route answers 404", async () => {
    const res = await setup({ token, username: "owner", password: GOOD_PASSWORD, email: "owner@example.test" });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.role).toBe("superadmin");
    const cookie = sessionCookieFrom(res)!;
    expect((await h.request({ method: "GET", url: "/api/admin/stats", cookie })).statusCode).toBe(200);
    expect((await setup({ token, username: "second", password: GOOD_PASSWORD })).statusCode).toBe(404);
    expect((await h.request({ method: "GET", url: "/api/setup" })).statusCode).toBe(404);
    expect((await h.gh.firstSuperadmin.ensure(null)).status).toBe("exists");
  });

  it("mass assignment: setup accepts no role or flags from the body", async () => {
    const res = await setup({ token, username: "x", password: GOOD_PASSWORD, role: "user" });
    expect(res.statusCode).toBe(400);
  });
});

describe.each(backendNames())("first superadmin from GATEHOUSE_ADMIN_* (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("seeds once, idempotently, and never logs the password", async () => {
    const seed = { username: "boss", password: "copper-lantern-meadow-88", email: "boss@example.test" };
    expect(await h.gh.firstSuperadmin.ensure(seed)).toEqual({ status: "seeded", username: "boss" });
    expect((await h.gh.firstSuperadmin.ensure(seed)).status).toBe("exists");
    expect(await h.gh.stores.users.count("superadmin")).toBe(1);
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: "boss", password: seed.password } });
    expect(login.json().user.role).toBe("superadmin");
    expect(h.logs.text()).not.toContain(seed.password);
  });

  it("refuses a weak seed password with the policy's reason", async () => {
    const other = await startHarness(backend);
    try {
      await expect(other.gh.firstSuperadmin.ensure({ username: "boss2", password: "passwordpassword" })).rejects.toThrow(/common/);
      expect(await other.gh.stores.users.count("superadmin")).toBe(0);
    } finally {
      await other.close();
    }
  });
});
