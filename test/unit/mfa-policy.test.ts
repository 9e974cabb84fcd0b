import { describe, expect, it } from "vitest";
import type { NewAuditEvent } from "../../src/core/audit/audit-event.js";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import { createManualClock } from "../../src/core/clock.js";
import { GatehouseError } from "../../src/core/errors.js";
import type { SecondFactorNotice } from "../../src/core/mfa/account-notices.js";
import { createMfaPolicy } from "../../src/core/mfa/mfa-policy.js";
import { mfaRequiredForRole, parseMfaRequirement, type MfaRequirement } from "../../src/core/mfa/mfa-requirement.js";
import { createResetSecondFactors, createSecondFactorRemovers } from "../../src/core/mfa/second-factor-reset.js";
import type { Role, User } from "../../src/core/users/user.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 5, 1);

/** Users and the factors each has, as `SecondFactors.methodsOf` would list them. */
function fixture(requirement: MfaRequirement, graceMs = 0) {
  const clock = createManualClock(T0);
  const factors = new Map<string, string[]>();
  const policy = createMfaPolicy({ settings: { requirement, graceMs }, secondFactors: { methodsOf: async (id) => factors.get(id) ?? [] }, clock });
  let seq = 0;
  const user = (role: Role, methods: string[] = [], createdAt = clock.now()) => {
    const id = `u${++seq}`;
    factors.set(id, methods);
    return { id, role, createdAt };
  };
  return { clock, factors, policy, user };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof GatehouseError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return `${err.status} ${err.code}`;
}

describe("MFA_REQUIRED: who must have a second factor", () => {
  it("admins (the default): admin and superadmin; everyone: every role; off: nobody", () => {
    expect((["user", "admin", "superadmin"] as const).map((r) => mfaRequiredForRole("admins", r))).toEqual([false, true, true]);
    expect((["user", "admin", "superadmin"] as const).map((r) => mfaRequiredForRole("everyone", r))).toEqual([true, true, true]);
    expect((["user", "admin", "superadmin"] as const).map((r) => mfaRequiredForRole("off", r))).toEqual([false, false, false]);
  });

  it("parses the three values, case-insensitively, and refuses anything else with the allowed values named", () => {
    expect(parseMfaRequirement(" Everyone ")).toBe("everyone");
    expect(() => parseMfaRequirement("false")).toThrow("admins, everyone, off");
    expect(() => parseMfaRequirement("")).toThrow();
  });
});

describe("AZ-06: administrator functions need the second factor the policy requires", () => {
  it("an admin without a factor is refused 403 mfa_enrollment_required; with one, on an aal2 session, allowed", async () => {
    const f = fixture("admins");
    const bare = f.user("admin");
    expect(await refusal(f.policy.checkAdminAccess({ user: bare, aal: "aal2" }))).toBe("403 mfa_enrollment_required");
    const superadmin = f.user("superadmin");
    expect(await refusal(f.policy.checkAdminAccess({ user: superadmin, aal: "aal1" }))).toBe("403 mfa_enrollment_required");
    f.factors.set(bare.id, ["totp"]);
    await expect(f.policy.checkAdminAccess({ user: bare, aal: "aal2" })).resolves.toBeNull();
  });

  it("recovery codes alone are no second factor (the port lists none): still refused", async () => {
    const f = fixture("admins");
    const admin = f.user("admin", []);
    expect(await refusal(f.policy.checkAdminAccess({ user: admin, aal: "aal1" }))).toBe("403 mfa_enrollment_required");
  });

  it("an admin who has a factor, on a session that did not prove it (aal1): 401 mfa_required; an API token (no assurance) passes", async () => {
    const f = fixture("admins");
    const admin = f.user("admin", ["webauthn"]);
    expect(await refusal(f.policy.checkAdminAccess({ user: admin, aal: "aal1" }))).toBe("401 mfa_required");
    await expect(f.policy.checkAdminAccess({ user: admin, aal: null })).resolves.toBeNull();
    // A token of an admin without a factor is refused like their session.
    const bare = f.user("admin");
    expect(await refusal(f.policy.checkAdminAccess({ user: bare, aal: null }))).toBe("403 mfa_enrollment_required");
  });

  it("off: nothing is required, whatever the session", async () => {
    const f = fixture("off");
    await expect(f.policy.checkAdminAccess({ user: f.user("superadmin"), aal: "aal1" })).resolves.toBeNull();
    await expect(f.policy.checkAdminAccess({ user: f.user("admin", ["totp"]), aal: "aal1" })).resolves.toBeNull();
  });

  it("the grace period counts from the account's creation: within it the admin passes and learns when it ends; at its end, refused", async () => {
    const f = fixture("admins", 7 * DAY);
    const admin = f.user("admin");
    await expect(f.policy.checkAdminAccess({ user: admin, aal: "aal1" })).resolves.toBe(T0 + 7 * DAY);
    expect(await f.policy.standing(admin)).toEqual({ required: true, methods: [], graceEndsAt: T0 + 7 * DAY });
    f.clock.advance(7 * DAY - 1);
    await expect(f.policy.checkAdminAccess({ user: admin, aal: "aal1" })).resolves.toBe(T0 + 7 * DAY);
    f.clock.advance(1);
    expect(await refusal(f.policy.checkAdminAccess({ user: admin, aal: "aal1" }))).toBe("403 mfa_enrollment_required");
    expect((await f.policy.standing(admin)).graceEndsAt).toBeNull();
    // An account created long ago has no grace left at all (a promotion does not restart it).
    const old = f.user("admin", [], T0 - 30 * DAY);
    expect(await refusal(f.policy.checkAdminAccess({ user: old, aal: "aal2" }))).toBe("403 mfa_enrollment_required");
  });
});

describe("MFA-08: the last second factor stays where one is required", () => {
  it("an admin's only factor: refused (409 last_second_factor); one of two methods, or one of several of its kind: allowed", async () => {
    const f = fixture("admins");
    const admin = f.user("admin", ["totp"]);
    expect(await f.policy.mayRemoveFactor(admin, "totp")).toBe(false);
    expect(await refusal(f.policy.assertMayRemove(admin, "totp"))).toBe("409 last_second_factor");
    // Two passkeys: removing one leaves the other.
    expect(await f.policy.mayRemoveFactor(admin, "totp", { lastOfItsKind: false })).toBe(true);
    f.factors.set(admin.id, ["totp", "webauthn", "recovery_code"]);
    expect(await f.policy.mayRemoveFactor(admin, "totp")).toBe(true);
    await expect(f.policy.assertMayRemove(admin, "webauthn")).resolves.toBeUndefined();
  });

  it("recovery codes never count: an admin with one primary factor and codes may drop the codes, never the factor", async () => {
    const f = fixture("admins");
    const admin = f.user("superadmin", ["webauthn", "recovery_code"]);
    expect(await f.policy.mayRemoveFactor(admin, "recovery_code")).toBe(true);
    expect(await f.policy.mayRemoveFactor(admin, "webauthn")).toBe(false);
  });

  it("admins mode: a plain user removes their last factor; everyone mode: refused for them too; off: allowed for all", async () => {
    const admins = fixture("admins");
    expect(await admins.policy.mayRemoveFactor(admins.user("user", ["totp"]), "totp")).toBe(true);
    const everyone = fixture("everyone");
    expect(await refusal(everyone.policy.assertMayRemove(everyone.user("user", ["totp"]), "totp"))).toBe("409 last_second_factor");
    const off = fixture("off");
    expect(await off.policy.mayRemoveFactor(off.user("superadmin", ["totp"]), "totp")).toBe(true);
  });

  it("the refusal holds during the grace period too: grace is time to add a factor, not leave to drop one", async () => {
    const f = fixture("admins", 30 * DAY);
    expect(await f.policy.mayRemoveFactor(f.user("admin", ["totp"]), "totp")).toBe(false);
  });
});

describe("an administrator's reset of a user's second factors", () => {
  function resetFixture() {
    const users = new Map<string, User>();
    const add = (role: Role, email: string | null = `${role}@example.test`): User => {
      const u: User = { id: `id-${users.size + 1}`, username: `${role}${users.size + 1}`, email, emailVerified: true, passwordHash: null, role, blocked: false, createdAt: T0, updatedAt: T0, lastLoginAt: null };
      users.set(u.id, u);
      return u;
    };
    const enrolled = new Map<string, Set<string>>();
    const removers = createSecondFactorRemovers();
    const removed: string[] = [];
    for (const method of ["totp", "webauthn"]) {
      removers.register({ method, removeAll: async (id) => void (enrolled.get(id)?.delete(method), removed.push(`${method}:${id}`)) });
    }
    const events: NewAuditEvent[] = [];
    const audit = { record: async (e: NewAuditEvent) => (events.push(e), { ...e }) } as unknown as AuditLog;
    const unlocked: string[] = [];
    const ended: string[] = [];
    const notices: { kind: SecondFactorNotice; email: string | null }[] = [];
    const reset = createResetSecondFactors({
      users: { findById: async (id) => users.get(id) ?? null },
      removers,
      secondFactors: { methodsOf: async (id) => [...(enrolled.get(id) ?? [])] },
      guard: { unlock: async (id) => void unlocked.push(id) },
      sessions: { revokeAllForUser: async (id) => (ended.push(id), 2) },
      audit,
      notify: (kind, user) => notices.push({ kind, email: user.email }),
    });
    const origin = { ip: "192.0.2.7", userAgent: "test" };
    return { users, add, enrolled, removers, removed, events, unlocked, ended, notices, reset, origin };
  }

  it("runs every remover, lifts the pause, ends every session, audits mfa_reset with actor and methods, mails the user", async () => {
    const f = resetFixture();
    const admin = f.add("admin");
    const target = f.add("user");
    f.enrolled.set(target.id, new Set(["totp", "webauthn"]));
    const result = await f.reset(target.id, { user: admin, origin: f.origin });
    expect(result).toEqual({ methods: ["totp", "webauthn"], sessionsEnded: 2 });
    expect(f.enrolled.get(target.id)?.size).toBe(0);
    expect(f.removed).toEqual([`totp:${target.id}`, `webauthn:${target.id}`]);
    expect(f.unlocked).toEqual([target.id]);
    expect(f.ended).toEqual([target.id]);
    expect(f.events).toEqual([
      { type: "mfa_reset", actorId: admin.id, userId: target.id, details: { methods: "totp webauthn", sessions: 2 }, ip: "192.0.2.7", userAgent: "test" },
    ]);
    expect(f.notices).toEqual([{ kind: "second_factors_reset", email: target.email }]);
  });

  it("follows who may act on whom: an admin never resets another admin, a superadmin or themself (403, nothing removed); a superadmin resets an admin", async () => {
    const f = resetFixture();
    const admin = f.add("admin");
    const other = f.add("admin");
    const sup = f.add("superadmin");
    for (const target of [other, sup, admin]) expect(await refusal(f.reset(target.id, { user: admin, origin: f.origin }))).toBe("403 forbidden");
    expect(await refusal(f.reset(sup.id, { user: sup, origin: f.origin }))).toBe("403 forbidden");
    expect([f.removed, f.ended, f.events, f.notices]).toEqual([[], [], [], []]);
    await expect(f.reset(other.id, { user: sup, origin: f.origin })).resolves.toMatchObject({ sessionsEnded: 2 });
  });

  it("the CLI (no actor) resets anyone, audited via cli; an unknown user is 404", async () => {
    const f = resetFixture();
    const sup = f.add("superadmin", null);
    await f.reset(sup.id, { user: null, origin: f.origin });
    expect(f.events[0]).toMatchObject({ type: "mfa_reset", actorId: null, userId: sup.id, details: { methods: "none", via: "cli" } });
    // No address: the notice is asked for and the mailer skips it (createNotifyUser), never failing the reset.
    expect(f.notices).toEqual([{ kind: "second_factors_reset", email: null }]);
    expect(await refusal(f.reset("nobody", { user: null, origin: f.origin }))).toBe("404 not_found");
  });

  it("a kind of factor registers one remover only", () => {
    const f = resetFixture();
    expect(() => f.removers.register({ method: "totp", removeAll: async () => {} })).toThrow("already registered");
  });
});
