import { beforeAll, describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";

// The longest request target a decision is made on: canonicalTarget refuses longer ones (docs/gateway.md, "Canonical paths").
const URL_LIMIT = 8192;

// The three patterns of the review (issue 13, finding 2): all passed the old heuristic check (safe-regex2),
// and on a backtracking engine one anonymous request with 28 spaces stalled the event loop for 5 s.
const rules = parseRulesFile(`access_control:
  default_policy: one_factor
  rules:
    - domain: app.example.test
      resources: ['^/docs/(.|\\s)*\\.pdf$']
      policy: bypass
    - domain: app.example.test
      resources: ['^/api/(\\w|\\d)*$']
      policy: bypass
    - domain: app.example.test
      resources: ['^/files/.*-.*-.*-.*\\.pdf$']
      policy: bypass
`);
const gate = createAccessGate({ publicUrl: "https://gw.test", rules });
const decide = (uri: string) => gate.decide({ method: "GET", proto: "https", host: "app.example.test", uri, ip: "192.0.2.7" }, null).kind;

/** Hostile targets of about `n` characters that the pattern almost matches (each ends in a character that spoils the match). */
const attacks: [string, (n: number) => string][] = [
  ["^/docs/(.|\\s)*\\.pdf$", (n) => `/docs/${"%20".repeat(Math.floor((n - 10) / 3))}.pdX`],
  ["^/api/(\\w|\\d)*$", (n) => `/api/${"1".repeat(n - 6)}!`],
  ["^/files/.*-.*-.*-.*\\.pdf$", (n) => `/files/${"-".repeat(n - 12)}.pdX`],
];

/** Milliseconds of one decision: this process's CPU time, so other processes on a busy machine do not count, but a hung event loop does. */
function timed(uri: string): number {
  const t = process.cpuUsage();
  expect(decide(uri)).toBe("unauthenticated");
  const used = process.cpuUsage(t);
  return (used.user + used.system) / 1000;
}

function problemsOf(text: string): string[] {
  try {
    parseRulesFile(text);
  } catch (err) {
    if (err instanceof RulesFileError) return err.problems;
    throw err;
  }
  throw new Error("the file was accepted");
}

const rule = (pattern: string) => `access_control:\n  rules:\n    - domain: a.test\n      resources: ['${pattern}']\n      policy: deny\n`;

describe("ReDoS through an access rule (issue 13, finding 2)", () => {
  beforeAll(() => {
    // Full-length paths that match at once on any engine: the JIT's warm-up of the matcher (a one-off
    // of some 10–50 ms per process, docs/adr/0007) is not what the attack tests measure.
    for (let i = 0; i < 3; i++) {
      expect(decide(`/docs/${"a".repeat(URL_LIMIT - 20)}.pdf`)).toBe("allow");
      expect(decide(`/api/${"1".repeat(URL_LIMIT - 6)}`)).toBe("allow");
      expect(decide(`/files/a-b-c-${"d".repeat(URL_LIMIT - 30)}.pdf`)).toBe("allow");
    }
  });

  it("the three patterns still decide as written (RE2 semantics, case-insensitive)", () => {
    expect(decide("/docs/a%20b/Report.PDF")).toBe("allow");
    expect(decide("/api/abc123")).toBe("allow");
    expect(decide("/api/abc/123")).toBe("unauthenticated");
    expect(decide("/files/a-b-c-d.pdf")).toBe("allow");
    expect(decide("/files/a-b.pdf")).toBe("unauthenticated");
  });

  it.each(attacks)(
    "attack: ReDoS through an access rule — %s decides a hostile path of up to the URL limit in milliseconds, never seconds",
    (_pattern, hostile) => {
      // Growing lengths, so a backtracking engine fails here within a second instead of hanging the run.
      for (const n of [16, 24, 28, 32, 40, 64, 256, 1024, 4096, URL_LIMIT]) {
        const uri = hostile(n);
        expect(uri.length).toBeLessThanOrEqual(URL_LIMIT);
        const runs = Array.from({ length: 7 }, () => timed(uri)).sort((a, b) => a - b);
        // The worst run allows for a garbage collection; the median is the steady cost of a request
        // (measured 0.1–0.3 ms; the bounds leave room for a loaded CI host, while a backtracking
        // engine takes seconds from a few dozen characters on: bench/rule-match.ts has the figures).
        expect(runs.at(-1), `worst of 7 decisions on ${uri.length} characters`).toBeLessThan(200);
        expect(runs[3], `median of 7 decisions on ${uri.length} characters`).toBeLessThan(5);
      }
    },
  );

  it("patterns RE2 cannot run (backreference \\1, lookahead (?=, lookbehind (?<=) are refused at load with their line", () => {
    expect(problemsOf(rule("^/(a)\\1"))).toEqual([expect.stringMatching(/^line 4: resource `\^\/\(a\)\\1` uses a backreference/)]);
    expect(problemsOf(rule("^/(?<n>a)\\k<n>"))[0]).toMatch(/^line 4: .* uses a backreference/);
    expect(problemsOf(rule("^/admin(?=/)"))[0]).toMatch(/^line 4: .* uses a lookahead/);
    expect(problemsOf(rule("^/(?!public)"))[0]).toMatch(/^line 4: .* uses a lookahead/);
    expect(problemsOf(rule("(?<=/)admin"))[0]).toMatch(/^line 4: .* uses a lookbehind/);
    expect(problemsOf(rule("(?<!x)admin"))[0]).toMatch(/^line 4: .* uses a lookbehind/);
  });

  it("invalid and oversized patterns are refused at load with their line and RE2's reason", () => {
    expect(problemsOf(rule("^/(x"))[0]).toMatch(/^line 4: resource .* is not a valid RE2 regular expression \(missing closing \)\)/);
    expect(problemsOf(rule("^/\\u0041"))[0]).toMatch(/^line 4: .* is not a valid RE2 regular expression \(invalid escape sequence\)/);
    expect(problemsOf(rule("^/a{1001}"))[0]).toMatch(/^line 4: .*\(invalid repeat count\)/);
    expect(problemsOf(rule("a.{128}$"))[0]).toMatch(/^line 4: .* is too complex \(132 RE2 instructions, at most 100\)/);
  });

  it("RE2-only syntax works: \\Q…\\E quoting (even left open), (?i) flags, POSIX classes", () => {
    const g = createAccessGate({ publicUrl: "https://gw.test", rules: parseRulesFile(rule("^/\\Qa.b").replace("policy: deny", "policy: bypass")) });
    const kind = (uri: string) => g.decide({ method: "GET", proto: "https", host: "a.test", uri, ip: "192.0.2.7" }, null).kind;
    expect(kind("/a.b/x")).toBe("allow");
    expect(kind("/aXb/x")).toBe("unauthenticated");
    expect(() => parseRulesFile(rule("^/[[:alpha:]]+\\z(?i)"))).not.toThrow();
  });

  it("nested repetition is harmless on a linear-time engine, so it is accepted", () => {
    const gateNested = createAccessGate({ publicUrl: "https://gw.test", rules: parseRulesFile(rule("^/(a+)+$")) });
    const t = process.cpuUsage();
    expect(gateNested.decide({ method: "GET", proto: "https", host: "a.test", uri: `/${"a".repeat(URL_LIMIT - 2)}!`, ip: "192.0.2.7" }, null).kind).toBe("unauthenticated");
    const used = process.cpuUsage(t);
    expect((used.user + used.system) / 1000).toBeLessThan(50);
  });
});
