// Cost of matching access-rule `resources` (docs/adr/0007-linear-time-rule-patterns.md):
//   npx tsx bench/rule-match.ts [--rounds 15] [--iterations 20000]
// 1. Per pattern, on benign paths: the native backtracking RegExp (flag i, the old engine)
//    against re2js as the rules loader compiles it (src/gateway/linear-pattern.ts), µs per test.
// 2. A typical rules file of 10 rules: µs per gate decision (canonicalization included), with
//    the same rules on re2js and on native RegExp.
// 3. The review's three ReDoS patterns on hostile 8 KiB targets with re2js: ms per decision.
// Medians of `rounds` rounds of this process's CPU time (a busy machine inflates them less than wall-clock time).
import { parseArgs } from "node:util";
import type { AccessRules } from "../src/core/gateway/access-rules.js";
import { createAccessGate } from "../src/core/gateway/create-access-gate.js";
import { compileLinearPattern } from "../src/gateway/linear-pattern.js";
import { parseRulesFile } from "../src/gateway/parse-rules-file.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "15" }, iterations: { type: "string", default: "20000" } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median µs per call of `fn` over the inputs, cycled. */
function perCall(inputs: readonly string[], fn: (s: string) => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn(inputs[i % inputs.length]!);
    times.push(cpuMs(t) * 1000 / iterations);
  }
  return median(times);
}

const BENIGN = ["/", "/index.html", "/public/css/site.css", "/api/v1/users/42/avatar.png", "/admin/settings?tab=security", "/docs/guide/getting-started.pdf", "/static/js/app.3f9c2e.js", "/healthz"];
const PATTERNS = ["^/public/", "^/healthz$", "^/admin", "^/api/v[0-9]+/users/[^/]+/avatar\\.(png|jpe?g|gif)$", "\\.(css|js|png|svg|woff2?)$", "^/docs/.*\\.pdf$"];

console.log(`1. one pattern on benign paths (µs per test, median of ${rounds} × ${iterations})`);
console.log("| pattern | native RegExp | re2js | ratio |\n|---|---:|---:|---:|");
for (const source of PATTERNS) {
  const native = new RegExp(source, "i");
  const compiled = compileLinearPattern(source);
  if (!compiled.ok) throw new Error(`${source} ${compiled.problem}`);
  const re2 = compiled.pattern;
  const n = perCall(BENIGN, (s) => native.test(s));
  const r = perCall(BENIGN, (s) => re2.test(s));
  console.log(`| \`${source}\` | ${n.toFixed(3)} | ${r.toFixed(3)} | ${(r / n).toFixed(1)} × |`);
}

const FILE = `access_control:
  default_policy: deny
  rules:
    - domain: app.example.test
      resources: ["^/healthz$", "^/public/", "\\\\.(css|js|png|svg|woff2?)$"]
      policy: bypass
    - domain: app.example.test
      resources: ["^/admin"]
      subject: "group:admin"
      policy: one_factor
    - domain: app.example.test
      resources: ["^/admin"]
      policy: deny
    - domain: app.example.test
      resources: ["^/api/v[0-9]+/internal/"]
      networks: ["10.0.0.0/8"]
      policy: one_factor
    - domain: app.example.test
      resources: ["^/api/v[0-9]+/internal/"]
      policy: deny
    - domain: app.example.test
      resources: ["^/api/v[0-9]+/users/[^/]+/avatar\\\\.(png|jpe?g|gif)$"]
      policy: bypass
    - domain: app.example.test
      resources: ["^/docs/.*\\\\.pdf$"]
      methods: [GET, HEAD]
      policy: one_factor
    - domain: app.example.test
      resources: ["^/billing", "^/invoices"]
      subject: "user:carol"
      policy: one_factor
    - domain: app.example.test
      resources: ["^/billing", "^/invoices"]
      policy: deny
    - domain: app.example.test
      policy: one_factor
`;
const rules = parseRulesFile(FILE);
/** The same rules with every pattern on the native engine (as before the change), for comparison only. */
const nativeRules: AccessRules = {
  ...rules,
  rules: rules.rules.map((rule) => ({ ...rule, resources: rule.resources?.map((p) => ({ source: p.source, test: RegExp.prototype.test.bind(new RegExp(p.source, "i")) })) ?? null })),
};
const user = { id: "u1", username: "bob", email: "bob@example.test", emailVerified: true, passwordHash: null, role: "user" as const, blocked: false, createdAt: 0, updatedAt: 0, lastLoginAt: null };
const signedIn = {
  user,
  session: { id: "s1", tokenHash: "0".repeat(64), userId: "u1", createdAt: 0, lastSeenAt: 0, expiresAt: 1, remember: false, ip: "192.0.2.7", userAgent: "bench", reauthAt: null, aal: "aal1" as const, amr: ["pwd" as const] },
};
const requestFor = (uri: string) => ({ method: "GET", proto: "https", host: "app.example.test", uri, ip: "192.0.2.7" });
const requests = ["/", "/app/dashboard", "/public/css/site.css", "/api/v2/users/42/avatar.png", "/api/v2/projects?page=3", "/docs/guide.pdf", "/admin/users", "/invoices/2026-11"].map(requestFor);
console.log(`\n2. a rules file of ${rules.rules.length} rules (${rules.rules.reduce((n, r) => n + (r.resources?.length ?? 0), 0)} patterns): µs per decision, signed-in user, mixed paths`);
const fallThrough = requestFor("/app/dashboard"); // every pattern is tested before the last rule matches
const empty: AccessRules = { ...rules, rules: [rules.rules.at(-1)!] };
for (const [name, set] of [["no patterns (the catch-all rule alone)", empty], ["native RegExp", nativeRules], ["re2js", rules]] as const) {
  const gate = createAccessGate({ publicUrl: "https://gw.test", rules: set });
  let i = 0;
  const mixed = perCall(["x"], () => gate.decide(requests[i++ % requests.length]!, signedIn));
  const worst = perCall(["x"], () => gate.decide(fallThrough, signedIn));
  console.log(`- ${name}: mixed paths ${mixed.toFixed(2)} µs, a path that tests every pattern ${worst.toFixed(2)} µs`);
}

const HOSTILE: [string, string][] = [
  ["^/docs/(.|\\s)*\\.pdf$", `/docs/${"%20".repeat(2726)}.pdX`],
  ["^/api/(\\w|\\d)*$", `/api/${"1".repeat(8186)}!`],
  ["^/files/.*-.*-.*-.*\\.pdf$", `/files/${"-".repeat(8180)}.pdX`],
];
console.log("\n3. the review's ReDoS patterns on hostile targets of the URL limit (8 KiB), re2js: ms per decision");
for (const [source, uri] of HOSTILE) {
  const gate = createAccessGate({ publicUrl: "https://gw.test", rules: parseRulesFile(`access_control:\n  rules:\n    - domain: app.example.test\n      resources: ['${source}']\n      policy: bypass\n`) });
  const times: number[] = [];
  for (let r = 0; r < 50; r++) {
    const t = process.cpuUsage();
    gate.decide(requestFor(uri), null);
    times.push(cpuMs(t));
  }
  console.log(`- \`${source}\` (${uri.length} chars): first ${times[0]!.toFixed(2)} ms, median ${median(times).toFixed(3)} ms, worst after the first ${Math.max(...times.slice(1)).toFixed(3)} ms`);
}
