import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** Streams `chunks` of `size` bytes with a pause between them; resolves with the response status and when the last byte was written. */
function slowUpload(base: string, path: string, headers: Record<string, string>, chunks: number, size: number, pauseMs: number) {
  return new Promise<{ status: number; finishedAt: number; body: string }>((resolve, reject) => {
    const url = new URL(path, base);
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { ...headers, "transfer-encoding": "chunked" } });
    let finishedAt = 0;
    req.on("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, finishedAt, body }));
    });
    req.on("error", reject);
    let sent = 0;
    const next = (): void => {
      if (sent === chunks) {
        finishedAt = performance.now();
        req.end();
        return;
      }
      sent++;
      req.write(Buffer.alloc(size, 97));
      setTimeout(next, pauseMs);
    };
    next();
  });
}

describe("reverse proxy streams request bodies instead of buffering them", () => {
  let p: ProxyHarness;
  let base: string;
  let cookie: string;

  beforeAll(async () => {
    p = await startProxyHarness("sqlite", { PROXY_BODY_LIMIT: String(4 * 1024 * 1024) });
    const user = await p.h.account("user");
    const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
    base = await listen(p.h);
  });
  afterAll(async () => p?.close());

  it("a large upload: the upstream receives the first bytes before the client has finished sending", async () => {
    const arrived = p.upstream.nextRequest();
    const upload = slowUpload(base, "/upload", { host: APP_HOST, cookie, origin: APP_ORIGIN, "content-type": "application/octet-stream" }, 20, 64 * 1024, 25);
    const seen = await arrived;
    const result = await upload;
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).bytes).toBe(20 * 64 * 1024);
    expect(seen.firstByteAt).not.toBeNull();
    expect(seen.firstByteAt as number).toBeLessThan(result.finishedAt);
  });

  it("an upload with Expect: 100-continue (curl does this above 1 MB) is forwarded", async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 98);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL("/upload", base);
      const req = httpRequest({ host: url.hostname, port: url.port, path: "/upload", method: "PUT", headers: { host: APP_HOST, cookie, origin: APP_ORIGIN, expect: "100-continue", "content-length": String(body.length) } });
      req.on("continue", () => req.end(body));
      req.on("response", (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on("error", reject);
    });
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body).bytes).toBe(body.length);
    expect(JSON.parse(status.body).headers.expect).toBeUndefined();
  });
});
