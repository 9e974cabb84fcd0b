import { describe, expect, it } from "vitest";
import { createAccessGate } from "../../src/core/gateway/create-access-gate.js";
import type { ValidSession } from "../../src/core/sessions/session-service.js";
import type { Role, User } from "../../src/core/users/user.js";
import { parseRulesFile } from "../../src/gateway/parse-rules-file.js";

function user(role: Role, username: string = role): User {
  return { id: `id-${username}`, username, email: `${username}@example.test`, emailVerified: true, passwordHash: null, role, blocked: false, createdAt: 0, updatedAt: 0, lastLoginAt: null };
}

/** The resolved session the gate decides for: the user, signed in with a password. */
function signedIn(u: User): ValidSession {
  const session = { id: `s-${u.id}`, tokenHash: "0".repeat(64), userId: u.id, createdAt: 0, lastSeenAt: 0, expiresAt: 1, remember: false, ip: "192.0.2.7", userAgent: "t", reauthAt: null };
  return { user: u, session: { ...session, aal: "aal1", amr: ["pwd"] } };
}

const rules = parseRulesFile(`
access_control:
  default_policy: deny
  rules:
    - domain: app.example.test
      resources: ["^/admin"]
      subject: "group:admin"
      policy: one_factor
    - domain: app.example.test
      resources: ["^/admin"]
      policy: deny
    - domain: app.example.test
      resources: ["^/public/"]
      methods: [GET, HEAD]
      policy: bypass
    - domain: app.example.test
      networks: ["10.0.0.0/8"]
      resources: ["^/intranet"]
      policy: one_factor
    - domain: app.example.test
      resources: ["^/intranet"]
      policy: deny
    - domain: app.example.test
      subject: "user:carol"
      resources: ["^/carol"]
      policy: one_factor
    - domain: app.example.test
      resources: ["^/carol"]
      policy: deny
    - domain: ["app.example.test", "*.apps.example.test"]
      policy: one_factor
`);
const gate = createAccessGate({ publicUrl: "https://gw.test", rules });
const decide = (u: User | null, uri: string, over: Partial<{ method: string; host: string; ip: string; proto: string }> = {}) =>
  gate.decide({ method: "GET", proto: "https", host: "app.example.test", ip: "192.0.2.7", uri, ...over }, u === null ? null : signedIn(u)).kind;

describe("gateway decisions (AZ-07: host × path × method × role)", () => {
  const matrix: [string, string, Role | null, string][] = [
    ["GET", "/admin", null, "unauthenticated"],
    ["GET", "/admin", "user", "forbidden"],
    ["GET", "/admin", "admin", "allow"],
    ["GET", "/admin", "superadmin", "allow"],
    ["GET", "/public/logo.png", null, "allow"],
    ["POST", "/public/form", null, "unauthenticated"],
    ["POST", "/public/form", "user", "allow"],
    ["GET", "/app", null, "unauthenticated"],
    ["GET", "/app", "user", "allow"],
    ["DELETE", "/app", "user", "allow"],
    ["GET", "/intranet", "superadmin", "forbidden"],
  ];
  it.each(matrix)("%s %s as %s → %s", (method, uri, role, expected) => {
    expect(decide(role === null ? null : user(role), uri, { method })).toBe(expected);
  });

  it("networks are matched on the client address", () => {
    expect(decide(user("user"), "/intranet", { ip: "10.2.3.4" })).toBe("allow");
    expect(decide(user("user"), "/intranet", { ip: "::ffff:10.2.3.4" })).toBe("allow");
    expect(decide(user("user"), "/intranet", { ip: "11.2.3.4" })).toBe("forbidden");
  });

  it("user: subjects match the username only", () => {
    expect(decide(user("user", "carol"), "/carol")).toBe("allow");
    expect(decide(user("superadmin", "dave"), "/carol")).toBe("forbidden");
  });

  it("wildcard domains cover subdomains, never the apex; hosts no rule names are refused", () => {
    expect(decide(user("user"), "/", { host: "wiki.apps.example.test" })).toBe("allow");
    expect(decide(user("user"), "/", { host: "apps.example.test" })).toBe("invalid");
    expect(decide(user("superadmin"), "/", { host: "unknown.test" })).toBe("invalid");
    expect(decide(null, "/", { host: "unknown.test" })).toBe("invalid");
  });

  it("a blocked user is forbidden even on a one_factor rule", () => {
    expect(decide({ ...user("admin"), blocked: true }, "/app")).toBe("forbidden");
  });

  it("allow carries all four identity headers; an anonymous bypass carries them empty", () => {
    const d = gate.decide({ method: "GET", proto: "https", host: "app.example.test", uri: "/admin", ip: "192.0.2.7" }, signedIn(user("admin", "ann")));
    expect(d).toMatchObject({ kind: "allow", headers: { "Remote-User": "ann", "Remote-Email": "ann@example.test", "Remote-Name": "ann", "Remote-Groups": "user,admin" } });
    const anon = gate.decide({ method: "GET", proto: "https", host: "app.example.test", uri: "/public/x", ip: "192.0.2.7" }, null);
    expect(anon).toMatchObject({ kind: "allow", headers: { "Remote-User": "", "Remote-Email": "", "Remote-Name": "", "Remote-Groups": "" } });
  });

  it("the login URL of an unauthenticated decision returns to the original URL", () => {
    const d = gate.decide({ method: "GET", proto: "https", host: "App.Example.test.", uri: "/app?x=1", ip: "192.0.2.7" }, null);
    expect(d).toEqual({ kind: "unauthenticated", policy: "one_factor", loginUrl: "https://gw.test/login?return=https%3A%2F%2Fapp.example.test%2Fapp%3Fx%3D1" });
  });

  it("with no rules file everything is denied (default deny)", () => {
    const bare = createAccessGate({ publicUrl: "https://gw.test" });
    expect(bare.decide({ method: "GET", proto: "https", host: "gw.test", uri: "/demo/", ip: "192.0.2.7" }, signedIn(user("superadmin"))).kind).toBe("forbidden");
    expect(bare.decide({ method: "GET", proto: "https", host: "other.test", uri: "/", ip: "192.0.2.7" }, signedIn(user("superadmin"))).kind).toBe("invalid");
  });
});

describe("path confusion against \"deny /admin to user\" (FWD-04)", () => {
  const payloads = ["/admin", "/Admin", "/ADMIN/x", "/admin/", "//admin", "/./admin", "/public/../admin", "/%61dmin", "/admin%2f", "/%2e%2e/admin", "/admin;x=y", "/admin%00", "/%2561dmin", "/admin\\", "/.%2e/admin"];
  it.each(payloads)("path confusion: %j never reaches /admin as a user", (uri) => {
    expect(["forbidden", "invalid"]).toContain(decide(user("user"), uri));
  });
  it("path confusion: the host App.Example.test. is the same host", () => {
    expect(decide(user("user"), "/admin", { host: "App.Example.test." })).toBe("forbidden");
    expect(decide(user("user"), "/admin", { host: "app.example.test:443" })).toBe("forbidden");
  });
});

describe("two_factor rules (Authelia's meaning: a second factor proved in this session)", () => {
  const mfaRules = parseRulesFile(`
access_control:
  default_policy: two_factor
  rules:
    - domain: app.example.test
      resources: ["^/open"]
      policy: one_factor
    - domain: app.example.test
      resources: ["^/admin"]
      subject: "group:admin"
      policy: two_factor
    - domain: app.example.test
      resources: ["^/admin"]
      policy: deny
`);
  const mfaGate = createAccessGate({ publicUrl: "https://gw.test", rules: mfaRules });
  const aal2 = (u: User): ValidSession => {
    const s = signedIn(u);
    return { user: u, session: { ...s.session, aal: "aal2", amr: ["pwd", "otp"] } };
  };
  const ask = (session: ValidSession | null, uri: string) => mfaGate.decide({ method: "GET", proto: "https", host: "app.example.test", ip: "192.0.2.7", uri }, session);

  it("anonymous: sign in first; aal1: step up, to the second-factor or enrolment page with the validated return URL; aal2: allowed with the identity headers", () => {
    expect(ask(null, "/x").kind).toBe("unauthenticated");
    expect(ask(signedIn(user("user")), "/x?a=1")).toEqual({
      kind: "step_up_required",
      policy: "two_factor",
      user: user("user"),
      secondFactorUrl: `https://gw.test/login/second-factor?return=${encodeURIComponent("https://app.example.test/x?a=1")}`,
      enrolUrl: `https://gw.test/account/mfa?return=${encodeURIComponent("https://app.example.test/x?a=1")}`,
    });
    expect(ask(aal2(user("user")), "/x")).toMatchObject({ kind: "allow", headers: { "Remote-User": "user", "Remote-Groups": "user" } });
  });

  it("one_factor rules still let an aal1 session through; subjects and blocks are decided before the factor", () => {
    expect(ask(signedIn(user("user")), "/open").kind).toBe("allow");
    expect(ask(aal2(user("user")), "/admin").kind).toBe("forbidden");
    expect(ask(signedIn(user("admin")), "/admin").kind).toBe("step_up_required");
    expect(ask(aal2(user("admin")), "/admin").kind).toBe("allow");
    expect(ask(aal2({ ...user("admin"), blocked: true }), "/admin").kind).toBe("forbidden");
    expect(ask(signedIn({ ...user("user"), blocked: true }), "/x").kind).toBe("forbidden");
  });

  it("the assurance is the session's, not the methods a session claims: aal1 with a forged-looking amr is still aal1", () => {
    const s = signedIn(user("user"));
    expect(ask({ user: s.user, session: { ...s.session, amr: ["pwd", "otp"] } }, "/x").kind).toBe("step_up_required");
  });

  it("a return URL the redirect rules refuse becomes the portal's root", () => {
    expect(mfaGate.secondFactorUrl("https://evil.test/")).toBe("https://gw.test/login/second-factor?return=%2F");
  });
});
