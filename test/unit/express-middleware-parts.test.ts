import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { gatehouseMiddleware } from "gatehouse/express";
import { gatehouseCookies, withoutGatehouseCookies } from "../../src/library/express/gatehouse-cookies.js";
import { stripIdentityHeaders } from "../../src/library/express/identity-headers.js";
import { createPositiveCache } from "../../src/library/express/positive-cache.js";

describe("gatehouse/express: the positive cache", () => {
  it("serves an entry for at most ttlMs after it was stored", () => {
    let now = 0;
    const cache = createPositiveCache<string>({ ttlMs: 1_000, maxEntries: 10, now: () => now });
    cache.set("a", "alice");
    now = 999;
    expect(cache.get("a")).toBe("alice");
    now = 1_000;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size()).toBe(0);
  });

  it("keeps at most maxEntries, dropping the least recently used", () => {
    const cache = createPositiveCache<number>({ ttlMs: 60_000, maxEntries: 3, now: () => 0 });
    for (const k of ["a", "b", "c"]) cache.set(k, 1);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("d", 1);
    expect(cache.size()).toBe(3);
    expect(cache.get("b")).toBeUndefined();
    expect([cache.get("a"), cache.get("c"), cache.get("d")]).toEqual([1, 1, 1]);
    cache.clear();
    expect(cache.size()).toBe(0);
  });
});

describe("gatehouse/express: cookies", () => {
  it("only Gatehouse's session and SSO cookies are sent to Gatehouse; duplicates are kept for Gatehouse to refuse", () => {
    expect(gatehouseCookies("a=1; gatehouse_session=x; __Secure-gatehouse_session=y; b=2")).toBe("gatehouse_session=x; __Secure-gatehouse_session=y");
    expect(gatehouseCookies("__Host-gatehouse_session=x; __Host-gatehouse_session=z")).toBe("__Host-gatehouse_session=x; __Host-gatehouse_session=z");
    expect(gatehouseCookies("xgatehouse_session=1; gatehouse_session_x=2")).toBe("");
    expect(gatehouseCookies(undefined)).toBe("");
  });

  it("the app keeps its own cookies only", () => {
    expect(withoutGatehouseCookies("a=1; gatehouse_session=x; b=2")).toBe("a=1; b=2");
    expect(withoutGatehouseCookies("__Secure-gatehouse_session=y")).toBeNull();
  });
});

describe("gatehouse/express: identity headers", () => {
  it("attack: forged identity header: every Remote-* header (any case, `_` spelling too) is removed from headers and rawHeaders", () => {
    const req = new IncomingMessage(new Socket());
    req.headers = { host: "app", "remote-user": "admin", remote_groups: "admin", "remote-jwt": "x", accept: "*/*" };
    req.rawHeaders = ["Host", "app", "Remote-User", "admin", "REMOTE_GROUPS", "admin", "remote-jwt", "x", "Accept", "*/*"];
    stripIdentityHeaders(req);
    expect(req.headers).toEqual({ host: "app", accept: "*/*" });
    expect(req.rawHeaders).toEqual(["Host", "app", "Accept", "*/*"]);
  });
});

describe("gatehouse/express: options", () => {
  it("refuses a cache TTL over 60 s, a non-http URL and a non-positive timeout", () => {
    expect(() => gatehouseMiddleware({ url: "http://127.0.0.1:8080", cache: { ttlMs: 60_001 } })).toThrow(/ttlMs/);
    expect(() => gatehouseMiddleware({ url: "file:///etc/passwd" })).toThrow(/http/);
    expect(() => gatehouseMiddleware({ url: "http://127.0.0.1:8080", timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(typeof gatehouseMiddleware({ url: "http://127.0.0.1:8080", cache: { ttlMs: 60_000 } })).toBe("function");
  });
});
