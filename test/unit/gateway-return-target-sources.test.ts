import { describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import { parseRulesFile } from "../../src/gateway/parse-rules-file.js";

const RULES = `
access_control:
  rules:
    - domain: ["app.example.test", "*.apps.example.test", "under_score.example.test"]
      policy: one_factor
    - domain: ["APP.example.test"]
      policy: deny
upstreams:
  - domain: wiki.example.test
    url: http://127.0.0.1:3000
`;

describe("sign-in form-action: the origins the return-URL validator accepts (docs/adr/0006)", () => {
  const gate = createAccessGate({ publicUrl: "https://gw.test", rules: parseRulesFile(RULES) });

  it("lists the portal's origin and every rule and upstream host, with the portal's scheme and any port, once each", () => {
    expect(gate.returnTargetSources()).toEqual({
      portal: "https://gw.test",
      hosts: ["https://app.example.test:*", "https://*.apps.example.test:*", "https://wiki.example.test:*"],
    });
  });

  it("every listed host is one the validator accepts, and a host it refuses is not listed", () => {
    for (const url of ["https://app.example.test:8443/x?y=1", "https://a.apps.example.test/", "https://wiki.example.test/p"]) expect(gate.safeReturnUrl(url)).toBe(new URL(url).href);
    for (const url of ["https://evil.test/", "https://apps.example.test/", "http://app.example.test/"]) {
      expect(gate.safeReturnUrl(url)).toBe("/");
      const { protocol, hostname } = new URL(url);
      expect(gate.returnTargetSources().hosts).not.toContain(`${protocol}//${hostname}:*`);
    }
  });

  it("a name CSP cannot spell (an underscore) is left out rather than written as an invalid source", () => {
    expect(gate.returnTargetSources().hosts.join(" ")).not.toMatch(/under_score/);
  });

  it("is recomputed when the rules are replaced (SIGHUP reload), and reused while they are not", () => {
    const g = createAccessGate({ publicUrl: "http://localhost:8080", rules: parseRulesFile(RULES) });
    const first = g.returnTargetSources();
    expect(g.returnTargetSources()).toBe(first);
    expect(first.hosts[0]).toBe("http://app.example.test:*");
    g.replaceRules(parseRulesFile("access_control:\n  rules:\n    - domain: other.example.test\n      policy: bypass\n"));
    expect(g.returnTargetSources()).toEqual({ portal: "http://localhost:8080", hosts: ["http://other.example.test:*"] });
  });

  it("without rules only the portal remains", () => {
    expect(createAccessGate({ publicUrl: "https://gw.test" }).returnTargetSources()).toEqual({ portal: "https://gw.test", hosts: [] });
  });
});
