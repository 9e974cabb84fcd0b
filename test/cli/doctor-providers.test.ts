import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor/doctor-check-list.js";
import type { Finding } from "../../src/cli/doctor-checks.js";
import { startHostileIdp, type HostileIdp } from "../helpers/oauth/hostile-idp.js";
import { startTestIdp, type TestIdp } from "../helpers/oauth/test-idp.js";
import { freePort } from "../helpers/run-gatehouse.js";

const KEY = "5d0c8a1f3e7b9264aa0d1c2b3e4f5a6978877665544332211ffeeddccbbaa09";
const PUBLIC_URL = "https://auth.example.test";
/** Every provider's client secret in these tests: no finding may hold it. */
const SECRET = `cnrydoctor${randomBytes(12).toString("hex")}`;

let root: string;
let seq = 0;
let idp: TestIdp;
let hostile: HostileIdp;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "gatehouse-doctor-providers-"));
  idp = await startTestIdp();
  hostile = await startHostileIdp();
});
afterAll(async () => {
  await idp?.close();
  await hostile?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Doctor's findings about identity providers for a rules file holding `providers` (YAML list items) and `env`. */
async function doctor(providers: string | null, env: Record<string, string> = {}): Promise<Finding[]> {
  const cwd = join(root, `w${++seq}`);
  mkdirSync(cwd, { recursive: true });
  const full: Record<string, string> = { GATEHOUSE_DATA_DIR: join(cwd, "data"), SECRET_KEY: KEY, PUBLIC_URL, CORP_SECRET: SECRET, ...env };
  if (providers !== null) {
    full.GATEHOUSE_CONFIG = join(cwd, "rules.yml");
    writeFileSync(full.GATEHOUSE_CONFIG, `identity_providers:\n${providers}`);
  }
  const findings = await runDoctor(full, cwd);
  expect(JSON.stringify(findings)).not.toContain(SECRET);
  return findings.filter((f) => f.message.startsWith("identity provider"));
}

/** A provider entry (YAML) for `issuer`, secret from CORP_SECRET, with `extra` lines. */
const entry = (id: string, issuer: string, ...extra: string[]) =>
  `  - ${[`id: ${id}`, "type: oidc", `issuer: ${issuer}`, "client_id: gatehouse", "client_secret_env: CORP_SECRET", ...extra].join("\n    ")}\n`;

describe("gatehouse doctor: identity providers", () => {
  it("no provider configured: nothing to say", async () => {
    expect(await doctor(null)).toEqual([]);
  });

  it("the real IdP over https with its CA file: the redirect URI to register, and discovery OK", async () => {
    const found = await doctor(entry("corp", idp.issuer, `ca_file: ${idp.caFile}`, "private_network: true", "name: Corp SSO"));
    expect(found).toEqual([
      expect.objectContaining({ level: "info", message: `identity provider \`corp\` (Corp SSO): oidc; redirect URI ${PUBLIC_URL}/api/auth/oauth/corp/callback` }),
      expect.objectContaining({ level: "ok", message: `identity provider \`corp\` (Corp SSO): discovery at ${idp.issuer} answered with the configured issuer` }),
    ]);
  });

  it("without the CA file: a TLS error", async () => {
    const found = await doctor(entry("corp", idp.issuer, "private_network: true"));
    expect(found[1]).toEqual(expect.objectContaining({ level: "error", message: expect.stringMatching(/discovery at .* failed: TLS: the certificate is not trusted \(/), fix: expect.stringContaining("ca_file") }));
  });

  it("attack: a provider on a private address without private_network — refused by the outbound policy, nothing fetched", async () => {
    const before = hostile.hits.length;
    const found = await doctor(entry("corp", hostile.issuer, `ca_file: ${hostile.certificate.certFile}`));
    expect(found[1]).toEqual(expect.objectContaining({ level: "error", message: expect.stringContaining("failed: refused by the outbound policy"), fix: expect.stringContaining("private_network") }));
    expect(hostile.hits.length).toBe(before);
  });

  it("an unreachable issuer: an error naming it unreachable", async () => {
    const issuer = `https://127.0.0.1:${await freePort()}`;
    const found = await doctor(entry("corp", issuer, "private_network: true"));
    expect(found[1]).toEqual(expect.objectContaining({ level: "error", message: `identity provider \`corp\` (single sign-on): discovery at ${issuer} failed: unreachable (ECONNREFUSED)` }));
  });

  describe("the hostile IdP", () => {
    const hostileEntry = () => entry("hostile", hostile.issuer, `ca_file: ${hostile.certificate.certFile}`, "private_network: true");

    it("normal discovery: OK (the check is not just failing everything)", async () => {
      hostile.discoveryMode = "normal";
      expect((await doctor(hostileEntry()))[1]).toEqual(expect.objectContaining({ level: "ok" }));
    });

    it("attack: discovery naming another issuer (issuer_mismatch) — an error saying so", async () => {
      hostile.discoveryMode = "issuer_mismatch";
      try {
        const found = await doctor(hostileEntry());
        expect(found[1]).toEqual(expect.objectContaining({ level: "error", message: expect.stringContaining(`discovery at ${hostile.issuer} failed: issuer mismatch`) }));
      } finally {
        hostile.discoveryMode = "normal";
      }
    });

    it("attack: discovery answering a redirect — refused (never followed), and said so", async () => {
      hostile.discoveryMode = "redirect";
      const before = hostile.hits.length;
      try {
        const found = await doctor(hostileEntry());
        expect(found[1]).toEqual(expect.objectContaining({ level: "error", message: expect.stringContaining("failed: redirect refused") }));
        expect(hostile.hits.slice(before).filter((h) => h.startsWith("/elsewhere"))).toEqual([]);
      } finally {
        hostile.discoveryMode = "normal";
      }
    });
  });

  it("GitHub (from OAUTH_*): the redirect URI and information only, no network call", async () => {
    const found = await doctor(null, { OAUTH_PROVIDER: "github", OAUTH_CLIENT_ID: "gh-client", OAUTH_CLIENT_SECRET: SECRET });
    expect(found).toEqual([
      expect.objectContaining({ level: "info", message: `identity provider \`github\` (GitHub): github; redirect URI ${PUBLIC_URL}/api/auth/oauth/github/callback` }),
      expect.objectContaining({ level: "info", message: "identity provider `github` (GitHub): GitHub has no discovery; sign-in uses https://github.com/login/oauth/authorize" }),
    ]);
  });

  it("a disabled provider: its redirect URI, no discovery", async () => {
    const issuer = `https://127.0.0.1:${await freePort()}`;
    expect(await doctor(entry("off", issuer, "enabled: false"))).toEqual([expect.objectContaining({ level: "info", message: expect.stringContaining("`off` (single sign-on): oidc, disabled; redirect URI") })]);
  });

  it("settings the start would refuse: one error per problem, with the line, never the secret", async () => {
    const found = await doctor(`${entry("corp", "http://sso.example.com")}  - type: oidc\n    client_id: x\n    client_secret: ${SECRET}\n`);
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.every((f) => f.level === "error")).toBe(true);
    const text = found.map((f) => f.message).join("\n");
    expect(text).toMatch(/rules\.yml: line 2 \(identity provider\): `issuer` must be an https URL/);
    expect(text).toMatch(/rules\.yml: line 7 \(identity provider\): unknown key `client_secret`/);
  });

  it("PASSWORD_LOGIN=off without a provider: an error", async () => {
    expect(await doctor(null, { PASSWORD_LOGIN: "off" })).toEqual([
      expect.objectContaining({ level: "error", message: expect.stringContaining("PASSWORD_LOGIN=off needs at least one enabled identity provider") }),
    ]);
  });
});
