import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

const LIMIT = 64 * 1024;

describe("oversized bodies through the reverse proxy are refused before they reach the app", () => {
  let p: ProxyHarness;
  let cookie: string;
  let base: string;

  beforeAll(async () => {
    p = await startProxyHarness("sqlite", { PROXY_BODY_LIMIT: String(LIMIT) });
    const user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
    base = await listen(p.h);
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  it("a declared Content-Length over PROXY_BODY_LIMIT: 413, and the upstream saw nothing", async () => {
    const res = await p.h.request({ method: "POST", url: "/upload", cookie, payload: Buffer.alloc(LIMIT + 1, 97), headers: { host: APP_HOST, origin: APP_ORIGIN, "content-type": "application/octet-stream" } });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe("payload_too_large");
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("the limit applies on bypass rules too (anonymous uploads)", async () => {
    const res = await p.h.request({ method: "PUT", url: "/public/file", payload: Buffer.alloc(LIMIT * 4, 97), headers: { host: APP_HOST, "content-type": "application/octet-stream" } });
    expect(res.statusCode).toBe(413);
    expect(p.upstream.seen).toHaveLength(0);
  });

  it("a body exactly at the limit passes", async () => {
    const res = await p.h.request({ method: "POST", url: "/upload", cookie, payload: Buffer.alloc(LIMIT, 97), headers: { host: APP_HOST, origin: APP_ORIGIN, "content-type": "application/octet-stream" } });
    expect(res.statusCode).toBe(200);
    expect(res.json().bytes).toBe(LIMIT);
  });

  it("a chunked body without a length is cut off at the limit: 413, and the upstream never gets a complete request", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL("/upload", base);
      const req = httpRequest({ host: url.hostname, port: url.port, path: "/upload", method: "POST", headers: { host: APP_HOST, cookie, origin: APP_ORIGIN, "transfer-encoding": "chunked", "content-type": "application/octet-stream" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" || err.code === "EPIPE" ? resolve(-1) : reject(err)));
      let sent = 0;
      const pump = (): void => {
        if (req.destroyed) return;
        if (sent >= LIMIT * 4) return void req.end();
        sent += 16 * 1024;
        req.write(Buffer.alloc(16 * 1024, 97), () => setImmediate(pump));
      };
      pump();
    });
    expect([413, -1]).toContain(status);
    await new Promise((r) => setTimeout(r, 100));
    expect(p.upstream.seen.every((s) => !s.done && s.bytes <= LIMIT)).toBe(true);
  });
});

describe("a rule's body_limit overrides the global limit for the paths it matches", () => {
  let p: ProxyHarness;
  const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.test
      resources: ["^/avatar$"]
      policy: bypass
      body_limit: 1KiB
    - domain: app.test
      resources: ["^/public/"]
      policy: bypass
`;
  beforeAll(async () => {
    p = await startProxyHarness("sqlite", { PROXY_BODY_LIMIT: String(LIMIT) }, RULES);
  });
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  it("2 KiB to the 1 KiB rule: 413 and the upstream saw nothing; the same body elsewhere passes", async () => {
    const body = Buffer.alloc(2048, 97);
    const headers = { host: APP_HOST, "content-type": "application/octet-stream" };
    const small = await p.h.request({ method: "PUT", url: "/avatar", payload: body, headers });
    expect(small.statusCode).toBe(413);
    expect(p.upstream.seen).toHaveLength(0);
    const elsewhere = await p.h.request({ method: "PUT", url: "/public/file", payload: body, headers });
    expect(elsewhere.statusCode).toBe(200);
    expect(elsewhere.json().bytes).toBe(2048);
  });
});
