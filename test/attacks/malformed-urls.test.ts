import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes, type ErrorCode } from "../../src/core/errors.js";
import { backendNames } from "../helpers/backends.js";
import { APP_HOST, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** Malformed escapes, over-long parameters and odd bodies, on API paths, page paths and proxied paths. */
const LONG = "a".repeat(400);
const CASES: { name: string; method?: "GET" | "POST" | "PATCH" | "PROPFIND"; url: string; host?: string; headers?: Record<string, string>; payload?: string }[] = [
  { name: "lone % at the root", url: "/%" },
  { name: "lone % after an API path", url: "/api/auth/me%" },
  { name: "bad escape in an API path", url: "/api/%zz" },
  { name: "truncated UTF-8 escape in an API path", url: "/api/auth/%E0%A4%A" },
  { name: "bad escape in an API parameter", url: "/api/admin/users/%" },
  { name: "over-long API parameter", url: `/api/admin/users/${LONG}` },
  { name: "over-long API parameter, signed-in route, PATCH", method: "PATCH", url: `/api/admin/users/${LONG}`, payload: "{}", headers: { "content-type": "application/json" } },
  { name: "lone % after a page path", url: "/login%", headers: { accept: "text/html" } },
  { name: "bad escape in a page path", url: "/account/%zz", headers: { accept: "text/html" } },
  { name: "bad escape in a query", url: "/api/auth/me?q=%" },
  { name: "malformed JSON body", method: "POST", url: "/api/auth/login", payload: "{bad", headers: { "content-type": "application/json" } },
  { name: "JSON body with an unknown charset", method: "POST", url: "/api/auth/login", payload: "{}", headers: { "content-type": "application/json; charset=ebcdic" } },
  { name: "body of an unknown content type", method: "POST", url: "/api/auth/login", payload: "<a/>", headers: { "content-type": "text/xml" } },
  { name: "unknown method", method: "PROPFIND", url: "/api/auth/me" },
  { name: "unknown path", url: "/api/nothing-here" },
  { name: "proxied: lone %", url: "/%", host: APP_HOST },
  { name: "proxied: bad escape in a query", url: "/x?q=%", host: APP_HOST },
  { name: "proxied: over-long path under Gatehouse's prefix", url: `/.gatehouse/api/admin/users/${LONG}`, host: APP_HOST },
  { name: "proxied: lone % under Gatehouse's prefix", url: "/.gatehouse/api/auth/me%", host: APP_HOST },
];

/** What every error answer must look like (docs/api.md "Errors"). */
function assertContract(status: number, headers: Record<string, unknown>, body: string): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(body).not.toMatch(/FST_|statusCode|is not a valid url|max param/i);
  const json = JSON.parse(body) as { error: unknown; code: unknown; fields?: unknown };
  expect(Object.keys(json).filter((k) => k !== "fields").sort()).toEqual(["code", "error"]);
  if (json.fields !== undefined) expect(Array.isArray(json.fields)).toBe(true);
  expect(typeof json.error).toBe("string");
  expect(Object.keys(errorCodes)).toContain(json.code);
  expect(errorCodes[json.code as ErrorCode].status).toBe(status);
  expect(headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(String(headers["cache-control"])).toContain("no-store");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBeDefined();
  expect(headers["content-security-policy"]).toBeDefined();
  expect(String(headers["content-type"])).toMatch(/^application\/json/);
}

describe.each(backendNames())("attack: malformed URLs and over-long parameters get the error contract, not Fastify's internals (%s)", (backend) => {
  let p: ProxyHarness;
  beforeAll(async () => {
    p = await startProxyHarness(backend);
  });
  afterAll(async () => p?.close());

  it.each(CASES)("$name: $url", async (c) => {
    const res = await p.h.request({ method: c.method ?? "GET", url: c.url, ...(c.payload !== undefined ? { payload: c.payload } : {}), headers: { ...(c.host ? { host: c.host } : {}), ...c.headers } });
    assertContract(res.statusCode, res.headers, res.body);
    expect(p.upstream.seen).toEqual([]);
  });

  it("a bad escape or an over-long parameter is 400 invalid_request", async () => {
    for (const url of ["/%", "/api/auth/me%", `/api/admin/users/${LONG}`, "/login%"]) {
      const res = await p.h.request({ method: "GET", url });
      expect(res.statusCode, url).toBe(400);
      expect(res.json()).toEqual({ error: "The request is invalid", code: "invalid_request" });
    }
  });

  it("what Node's HTTP parser refuses (oversized headers 431, garbage request line 400) gets the same body and headers", async () => {
    const base = new URL(await listen(p.h));
    const cases: [string, number, string][] = [
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`, 431, "headers_too_large"],
      ["NOT A REQUEST\r\n\r\n", 400, "invalid_request"],
    ];
    for (const [raw, status, code] of cases) {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(base.port), base.hostname, () => socket.write(raw));
        let text = "";
        socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
      const [head = "", body = ""] = answer.split("\r\n\r\n");
      const [statusLine = "", ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      assertContract(Number(statusLine.split(" ")[1]), headers, body);
      expect(Number(statusLine.split(" ")[1])).toBe(status);
      expect((JSON.parse(body) as { code: string }).code).toBe(code);
    }
  });
});
