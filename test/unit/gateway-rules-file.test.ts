import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";
import { createRulesFileReloader } from "../../src/gateway/rules-file-reloader.js";

function problemsOf(text: string): string[] {
  try {
    parseRulesFile(text);
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  throw new Error("the file was accepted");
}

describe("access rules file (docs/api.md \"Access rules file\")", () => {
  it("reads Authelia's access_control shape, with upstreams", () => {
    const rules = parseRulesFile(`
access_control:
  default_policy: one_factor
  networks:
    - name: internal
      networks: ["10.0.0.0/8", "fd00::/8"]
  rules:
    - domain: ["app.example.test", "*.example.test"]
      resources: ["^/public/", "^/healthz$"]
      methods: [GET, head]
      networks: [internal, 192.168.1.1]
      subject: ["group:admin", "user:Alice"]
      policy: one_factor
    - domain: app.example.test
      policy: bypass
upstreams:
  - domain: app.example.test
    url: http://127.0.0.1:3000
`);
    expect(rules.defaultPolicy).toBe("one_factor");
    expect(rules.rules).toHaveLength(2);
    const [first] = rules.rules;
    expect(first?.domains).toEqual([{ exact: "app.example.test" }, { suffix: ".example.test" }]);
    expect([...(first?.methods ?? [])]).toEqual(["GET", "HEAD"]);
    expect(first?.networks?.contains("10.1.2.3")).toBe(true);
    expect(first?.networks?.contains("::ffff:10.1.2.3")).toBe(true);
    expect(first?.networks?.contains("fd00::1")).toBe(true);
    expect(first?.networks?.contains("192.168.1.1")).toBe(true);
    expect(first?.networks?.contains("192.168.1.2")).toBe(false);
    expect(first?.subjects).toEqual([{ kind: "group", role: "admin" }, { kind: "user", username: "alice" }]);
    expect(rules.upstreams[0]?.url.href).toBe("http://127.0.0.1:3000/");
    expect(createAccessGate({ publicUrl: "https://gw.test", rules }).upstreamFor("APP.example.test:443")?.href).toBe("http://127.0.0.1:3000/");
  });

  it("body_limit (Gatehouse extension) sets a per-rule body limit carried by the allow decision", () => {
    const rules = parseRulesFile(`access_control:
  rules:
    - domain: a.test
      resources: ["^/upload"]
      body_limit: 10MiB
      policy: one_factor
    - domain: a.test
      body_limit: 4096
      policy: bypass
`);
    expect(rules.rules.map((r) => r.maxBodyBytes)).toEqual([10 * 1024 * 1024, 4096]);
    const gate = createAccessGate({ publicUrl: "https://gw.test", rules });
    expect(gate.decide({ method: "POST", proto: "https", host: "a.test", uri: "/x", ip: "192.0.2.1" }, null)).toMatchObject({ kind: "allow", maxBodyBytes: 4096 });
    expect(problemsOf("access_control:\n  rules:\n    - domain: a.test\n      body_limit: lots\n      policy: deny\n")[0]).toMatch(/line 4: `body_limit` must be a size/);
  });

  it("default_policy is deny when unset", () => {
    expect(parseRulesFile("access_control:\n  rules: []\n").defaultPolicy).toBe("deny");
  });

  it("reports every problem with its line number and refuses the file as a whole", () => {
    const problems = problemsOf(`access_control:
  default_policy: maybe
  rules:
    - domain: app.example.test
      policy: one_factor
      subjekt: "user:bob"
    - policy: deny
    - domain: "https://app.example.test"
      networks: ["10.0.0.0/33"]
      policy: one_factor
upstreams:
  - domain: app.example.test
    url: "ftp://x"
`);
    expect(problems.join("\n")).toMatch(/line 2: `default_policy` must be one of/);
    expect(problems.join("\n")).toMatch(/line 6: unknown key `subjekt`/);
    expect(problems.join("\n")).toMatch(/rule 2 \(line 7\): `domain` is required/);
    expect(problems.join("\n")).toMatch(/line 8: domain .* is not a host name/);
    expect(problems.join("\n")).toMatch(/line 9: network .* is neither a CIDR nor a named network/);
    expect(problems.join("\n")).toMatch(/line 13: upstream `url` must be an http\(s\) URL/);
  });

  it("YAML syntax errors and duplicate keys carry their line", () => {
    expect(problemsOf("access_control:\n  rules:\n    - domain: [a\n")[0]).toMatch(/^line \d+: invalid YAML/);
    expect(problemsOf("access_control:\n  default_policy: deny\n  default_policy: bypass\n")[0]).toMatch(/^line 3: duplicate key/);
  });

  it("two_factor is accepted, as a rule's policy and as the default; a misspelt policy is refused with its line", () => {
    const rules = parseRulesFile("access_control:\n  default_policy: two_factor\n  rules:\n    - domain: a.test\n      policy: two_factor\n");
    expect(rules.defaultPolicy).toBe("two_factor");
    expect(rules.rules.map((r) => r.policy)).toEqual(["two_factor"]);
    expect(problemsOf("access_control:\n  rules:\n    - domain: a.test\n      policy: two-factor\n")[0]).toMatch(/line 4: `policy` must be one of bypass, one_factor, two_factor, deny/);
  });

  it("resource patterns are RE2 regular expressions: an invalid one is refused at load with its line (ReDoS: test/unit/gateway-rule-redos.test.ts)", () => {
    expect(problemsOf(`access_control:\n  rules:\n    - domain: a.test\n      resources: ["^/(x"]\n      policy: deny\n`)[0]).toMatch(/line 4: .*not a valid RE2 regular expression/);
  });

  it("refuses a bypass rule with subjects, unknown roles and nested subject lists", () => {
    expect(problemsOf(`access_control:\n  rules:\n    - domain: a.test\n      subject: "user:bob"\n      policy: bypass\n`)[0]).toMatch(/bypass.*cannot have a `subject`/);
    expect(problemsOf(`access_control:\n  rules:\n    - domain: a.test\n      subject: "group:wheel"\n      policy: deny\n`)[0]).toMatch(/line 4: subject must be/);
    expect(problemsOf(`access_control:\n  rules:\n    - domain: a.test\n      subject: [["user:a", "group:admin"]]\n      policy: deny\n`)[0]).toMatch(/nested subject lists/);
  });

  it("refuses an empty file and a missing access_control section", () => {
    expect(problemsOf("")[0]).toMatch(/empty/);
    expect(problemsOf("upstreams: []\n")[0]).toMatch(/`access_control` is missing/);
  });

  it("reload: a bad file keeps the old rules and logs why without the file's values; a good one swaps them in", () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-rules-"));
    const path = join(dir, "rules.yml");
    writeFileSync(path, "access_control:\n  rules:\n    - domain: a.test\n      policy: bypass\n");
    const lines: { obj: object; msg: string }[] = [];
    const logger = { info: (obj: object, msg: string) => lines.push({ obj, msg }), error: (obj: object, msg: string) => lines.push({ obj, msg }) };
    const reloader = createRulesFileReloader({ path, logger, settings: { clamdUrl: null } });
    const gate = createAccessGate({ publicUrl: "https://gw.test", rules: reloader.initial });
    const req = { method: "GET", proto: "https", host: "a.test", uri: "/", ip: "192.0.2.1" };
    expect(gate.decide(req, null).kind).toBe("allow");

    writeFileSync(path, "access_control:\n  rules:\n    - domain: a.test\n      policy: sometimes-s3cr3t\n");
    expect(reloader.reload(gate)).toBe(false);
    expect(gate.decide(req, null).kind).toBe("allow");
    const logged = JSON.stringify(lines.at(-1));
    expect(logged).toMatch(/NOT reloaded/);
    expect(logged).toMatch(/line 4/);
    expect(logged).not.toMatch(/s3cr3t/);

    writeFileSync(path, "access_control:\n  rules:\n    - domain: a.test\n      policy: deny\n");
    expect(reloader.reload(gate)).toBe(true);
    expect(gate.decide(req, null).kind).toBe("unauthenticated");
  });

  it("attack: an upload rule that asks for a virus scan with no CLAMD_URL is refused at start and on reload, never left to pass files unscanned", () => {
    const dir = mkdtempSync(join(tmpdir(), "gh-rules-"));
    const path = join(dir, "rules.yml");
    const scanning = "access_control:\n  rules:\n    - domain: a.test\n      policy: bypass\n      uploads: { max_size: 1MB, scan: clamav, on_scan_error: allow }\n";
    writeFileSync(path, scanning);
    const lines: { obj: object; msg: string }[] = [];
    const logger = { info: (obj: object, msg: string) => lines.push({ obj, msg }), error: (obj: object, msg: string) => lines.push({ obj, msg }) };
    expect(() => createRulesFileReloader({ path, logger, settings: { clamdUrl: null } })).toThrow(/rule 1 \(line 3\): `uploads.scan: clamav` needs CLAMD_URL/);
    // With clamd configured the same file loads; a reload that adds a scan while CLAMD_URL is unset keeps the old rules.
    expect(createRulesFileReloader({ path, logger, settings: { clamdUrl: "unix:/run/clamav/clamd.ctl" } }).initial.rules[0]?.uploads?.scan).toBe("clamav");
    writeFileSync(path, "access_control:\n  rules:\n    - domain: a.test\n      policy: bypass\n");
    const reloader = createRulesFileReloader({ path, logger, settings: { clamdUrl: null } });
    const gate = createAccessGate({ publicUrl: "https://gw.test", rules: reloader.initial });
    writeFileSync(path, scanning);
    expect(reloader.reload(gate)).toBe(false);
    expect(JSON.stringify(lines.at(-1))).toMatch(/needs CLAMD_URL/);
    expect(gate.rules().rules[0]?.uploads).toBeUndefined();
  });
});
