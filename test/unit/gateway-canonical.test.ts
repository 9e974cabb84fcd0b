import { describe, expect, it } from "vitest";
import { canonicalHost, canonicalPath, canonicalTarget } from "../../src/core/gateway/canonical-request.js";

describe("gateway canonicalization (FWD-04)", () => {
  it("lower-cases the host, drops a trailing dot and the default port, keeps other ports", () => {
    expect(canonicalHost("App.Example.test.", "https")).toEqual({ hostname: "app.example.test", port: "" });
    expect(canonicalHost("app.example.test:443", "https")).toEqual({ hostname: "app.example.test", port: "" });
    expect(canonicalHost("app.example.test:80", "http")).toEqual({ hostname: "app.example.test", port: "" });
    expect(canonicalHost("app.example.test:8443", "https")).toEqual({ hostname: "app.example.test", port: "8443" });
    expect(canonicalHost("[::1]:8080", "http")).toEqual({ hostname: "[::1]", port: "8080" });
  });

  it.each(["", "a b", "evil.test/x", "user@evil.test", "a..b", "x:99999", "x:1:2", "-bad-.test", "a\u0000b"])("refuses the malformed host %j", (raw) => {
    expect(canonicalHost(raw, "https")).toBeNull();
  });

  it.each([
    ["/admin", "/admin"],
    ["//admin", "/admin"],
    ["/./admin", "/admin"],
    ["/public/../admin", "/admin"],
    ["/../../admin", "/admin"],
    ["/%61dmin", "/admin"],
    ["/a//b///c/", "/a/b/c/"],
    ["/a/b/..", "/a/"],
    ["/a/.", "/a/"],
    ["/caf%C3%A9", "/café"],
  ])("canonical path of %j is %j", (raw, expected) => {
    expect(canonicalPath(raw)).toEqual({ path: expected });
  });

  it.each([
    "/admin%2f", "/admin%2F", "/%2e%2e/admin", "/%2E/admin", "/.%2e/admin", "/admin%5c", "/admin%00", "/admin%0a",
    "/%252e%252e/admin", "/%25", "/admin;x=y", "/admin;", "/admin\\", "/admin\u0000", "/a b", "/%zz", "/%c3", "admin", "/a#b",
  ])("refuses the ambiguous path %j", (raw) => {
    expect(canonicalPath(raw)).toHaveProperty("reason");
  });

  it("keeps the query as received, refusing only control characters and fragments", () => {
    expect(canonicalTarget("h.test", "https", "/x?next=%2F&a=b")).toMatchObject({ ok: true, path: "/x", query: "next=%2F&a=b" });
    expect(canonicalTarget("h.test", "https", "/x?a=\u0000")).toMatchObject({ ok: false });
    expect(canonicalTarget("h.test", "ftp", "/x")).toMatchObject({ ok: false });
    expect(canonicalTarget("h.test", "https", `/${"a".repeat(9000)}`)).toMatchObject({ ok: false });
  });
});
