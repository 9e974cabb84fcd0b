import { describe, expect, it } from "vitest";
import { isSameOriginRequest, type CrossSiteHeaders } from "../../src/core/csrf/cross-site-check.js";

const ORIGIN = "https://gw.test";
const check = (headers: Partial<CrossSiteHeaders>) => isSameOriginRequest({ validCsrfToken: false, ...headers }, ORIGIN);

describe("isSameOriginRequest: Sec-Fetch-Site decides when present (CSRF-01)", () => {
  it.each([
    ["same-origin", true],
    ["none", true],
    ["same-site", false],
    ["cross-site", false],
    ["", false],
    ["Same-Origin", false],
  ])("Sec-Fetch-Site %j → %s", (site, allowed) => {
    expect(check({ secFetchSite: site })).toBe(allowed);
  });

  it("a cross-site fetch is refused even with a matching Origin, XHR header and valid CSRF token", () => {
    expect(check({ secFetchSite: "cross-site", origin: ORIGIN, referer: `${ORIGIN}/x`, xRequestedWith: "XMLHttpRequest", validCsrfToken: true })).toBe(false);
    expect(check({ secFetchSite: "same-site", origin: ORIGIN, validCsrfToken: true })).toBe(false);
  });

  it("a same-origin fetch passes without any other header", () => {
    expect(check({ secFetchSite: "same-origin" })).toBe(true);
  });
});

describe("isSameOriginRequest: Origin must match exactly when Sec-Fetch-Site is absent (CSRF-02)", () => {
  it("accepts the exact public origin", () => {
    expect(check({ origin: ORIGIN })).toBe(true);
  });

  it.each([
    "https://evil.test",
    "https://gw.test.evil.test",
    "https://evil.gw.test",
    "http://gw.test",
    "https://gw.test:8443",
    "https://gw.test/",
    "null",
    "",
  ])("refuses Origin %j", (origin) => {
    expect(check({ origin })).toBe(false);
  });

  it("a mismatching Origin is not rescued by a good Referer, the XHR header or a CSRF token", () => {
    expect(check({ origin: "https://evil.test", referer: `${ORIGIN}/page`, xRequestedWith: "XMLHttpRequest", validCsrfToken: true })).toBe(false);
    expect(check({ origin: "null", validCsrfToken: true })).toBe(false);
  });
});

describe("isSameOriginRequest: Referer fallback when Origin is absent", () => {
  it.each([`${ORIGIN}/x`, `${ORIGIN}/account?tab=security#top`, `${ORIGIN}`])("accepts Referer %j", (referer) => {
    expect(check({ referer })).toBe(true);
  });

  it.each([
    "https://evil.test/x",
    "https://gw.test.evil.test/x",
    "http://gw.test/x",
    "not a url",
    "/relative/path",
    "about:blank",
    "data:text/html,hi",
    "",
  ])("refuses Referer %j", (referer) => {
    expect(check({ referer })).toBe(false);
  });

  it("a mismatching Referer is not rescued by the XHR header or a CSRF token", () => {
    expect(check({ referer: "https://evil.test/", xRequestedWith: "XMLHttpRequest", validCsrfToken: true })).toBe(false);
  });
});

describe("isSameOriginRequest: no Sec-Fetch-Site, Origin or Referer", () => {
  it("refuses a bare request", () => {
    expect(check({})).toBe(false);
  });

  it("accepts X-Requested-With: XMLHttpRequest exactly", () => {
    expect(check({ xRequestedWith: "XMLHttpRequest" })).toBe(true);
    expect(check({ xRequestedWith: "xmlhttprequest" })).toBe(false);
    expect(check({ xRequestedWith: "fetch" })).toBe(false);
  });

  it("accepts a verified CSRF token", () => {
    expect(check({ validCsrfToken: true })).toBe(true);
    expect(check({ validCsrfToken: false })).toBe(false);
  });
});
