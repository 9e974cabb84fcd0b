import { describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import { parseRulesFile } from "../../src/gateway/parse-rules-file.js";

const rules = parseRulesFile(`
access_control:
  rules:
    - domain: ["app.example.test", "*.apps.example.test"]
      policy: one_factor
`);
const gate = createAccessGate({ publicUrl: "https://gw.test", rules });

describe("open redirect through the return URL (REDIR-01, FWD-05)", () => {
  it.each([
    "//evil.test", "/\\evil.test", "\\\\evil.test", "/%09/evil.test", "/\t/evil.test", "/%2F%2Fevil.test", "%2F%2Fevil.test",
    "https://evil.test", "https:evil.test", "https:/evil.test", "https:///evil.test", "https://gw.test.evil.test", "https://evilgw.test",
    "https://gw.test@evil.test", "https://user:pw@app.example.test/", "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x",
    "/%0d%0aSet-Cookie:x=y", "/\r\nSet-Cookie:x=y", " https://app.example.test/", "http://app.example.test/", "https://app.example.test.evil.test/",
    "https://apps.example.test/", "ftp://app.example.test/", "https://app.example.test\\@evil.test/", "/\u2028//evil.test", "", null, undefined,
  ])("the payload %j falls back to /", (payload) => {
    expect(gate.safeReturnUrl(payload)).toBe("/");
  });

  it.each([
    ["/account", "/account"],
    ["/account?tab=sessions#top", "/account?tab=sessions#top"],
    ["/caf\u00e9", "/caf%C3%A9"],
    ["https://gw.test/account", "https://gw.test/account"],
    ["https://app.example.test/x?y=1", "https://app.example.test/x?y=1"],
    ["https://APP.example.test/", "https://app.example.test/"],
    ["https://wiki.apps.example.test:8443/page", "https://wiki.apps.example.test:8443/page"],
  ])("the safe target %j is kept as %j", (raw, expected) => {
    expect(gate.safeReturnUrl(raw)).toBe(expected);
  });

  it("the login URL always points at the portal with a validated, encoded return", () => {
    expect(gate.loginUrl("https://evil.test/")).toBe("https://gw.test/login?return=%2F");
    expect(gate.loginUrl("https://app.example.test/a b")).toBe("https://gw.test/login?return=%2F");
    expect(gate.loginUrl("https://app.example.test/x?y=1")).toBe("https://gw.test/login?return=https%3A%2F%2Fapp.example.test%2Fx%3Fy%3D1");
  });

  it("on a plain-http portal only http targets are accepted", () => {
    const dev = createAccessGate({ publicUrl: "http://localhost:8080", rules });
    expect(dev.safeReturnUrl("http://localhost:8080/x")).toBe("http://localhost:8080/x");
    expect(dev.safeReturnUrl("http://app.example.test/")).toBe("http://app.example.test/");
    expect(dev.safeReturnUrl("https://app.example.test/")).toBe("/");
    expect(dev.safeReturnUrl("http://localhost:9999/")).toBe("/");
  });
});
