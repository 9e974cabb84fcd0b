import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";

interface Line {
  msg?: string;
  reqId?: string;
  method?: string;
  path?: string;
  statusCode?: number;
  ms?: number;
  level?: number;
}

describe.each(backendNames())("access log (ACCESS_LOG=true): one line per request, nothing secret in it (%s)", (backend) => {
  let h: Harness;
  let cookie: string;
  beforeAll(async () => {
    h = await startHarness(backend, { ACCESS_LOG: "true" });
    cookie = (await h.register("accesslogger")).cookie;
  });
  afterAll(async () => h?.close());

  const linesSince = (n: number) => h.logs.lines.slice(n).map((l) => JSON.parse(l) as Line);

  it("a signed-in GET leaves exactly one access line: method, path without the query, status, duration, the X-Request-Id", async () => {
    const before = h.logs.lines.length;
    const res = await h.request({ method: "GET", url: "/api/auth/me?token=query-secret-123", cookie });
    expect(res.statusCode).toBe(200);
    const lines = linesSince(before);
    const access = lines.filter((l) => l.msg === "request");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ method: "GET", path: "/api/auth/me", statusCode: 200, reqId: res.headers["x-request-id"] });
    expect(typeof access[0]!.ms).toBe("number");
    // Fastify's own two lines per request are gone.
    expect(lines.some((l) => l.msg === "incoming request" || l.msg === "request completed")).toBe(false);
    const text = h.logs.lines.slice(before).join("\n");
    expect(text).not.toContain("query-secret-123");
    expect(text).not.toContain(cookie.split("=")[1]!);
  });

  it("refused and unknown requests are logged with their status too", async () => {
    const before = h.logs.lines.length;
    expect((await h.request({ method: "GET", url: "/api/auth/me" })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/no/such/page-xyz" })).statusCode).toBe(404);
    const access = linesSince(before).filter((l) => l.msg === "request");
    expect(access.map((l) => [l.path, l.statusCode])).toEqual([
      ["/api/auth/me", 401],
      ["/no/such/page-xyz", 404],
    ]);
  });
});

describe("access log: off by default", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backendNames()[0]!);
  });
  afterAll(async () => h?.close());

  it("requests leave no per-request line unless ACCESS_LOG=true (the proxy in front keeps the access log)", async () => {
    const { cookie } = await h.register("quietlogger");
    const before = h.logs.lines.length;
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/api/auth/me" })).statusCode).toBe(401);
    const lines = h.logs.lines.slice(before).map((l) => JSON.parse(l) as Line);
    expect(lines.filter((l) => l.msg === "request" || l.msg === "incoming request" || l.msg === "request completed")).toEqual([]);
  });
});
