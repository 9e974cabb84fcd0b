import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken, isWellFormedToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { Mailer } from "../mail/mailer.js";
import type { Random } from "../random.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import { checkRoleGrant } from "../rbac/role-change-rules.js";
import type { IssuedSession, SessionOrigin } from "../sessions/session-service.js";
import type { AccountService } from "../users/account-service.js";
import { cleanEmail, emailProblem, normalizeEmail } from "../users/email.js";
import type { Role, User } from "../users/user.js";
import type { UserStore } from "../users/user-store.js";
import { INVITATION_TTL_MS, type Invitation } from "./invitation.js";
import type { InvitationStore } from "./invitation-store.js";

/** Who invites: a signed-in admin, or the operator at the CLI (`user: null`, any role). */
export interface Inviter {
  user: User | null;
  origin: SessionOrigin;
}

/** A created invitation and its link (`PUBLIC_URL/invite#token=…`): shown only to an operator at the CLI. */
export interface CreatedInvitation {
  invitation: Invitation;
  link: string;
  /** Whether the link was mailed to the invited address. */
  mailed: boolean;
}

/** What the invited person submits. */
export interface InvitationRegistration {
  username: string;
  password: string;
  /** Optional; when given it must be the invited address. */
  email?: string | undefined;
}

/**
 * Invitations by email: a single-use, expiring (7 days) link whose 256-bit
 * token is stored only as its SHA-256; revocable; the role is chosen within
 * the inviter's own rights; every step audited.
 */
export interface InvitationService {
  /**
   * Creates an invitation and mails its link. An admin may invite `user`
   * only, a superadmin any role (403 `forbidden` otherwise); 409
   * `email_taken` when an account has the address; 409 `mail_unavailable`
   * when mail is off and `requireMail`; 429 `rate_limited` beyond the mail quota.
   */
  create(inviter: Inviter, input: { email: string; role?: Role }, options?: { requireMail?: boolean }): Promise<CreatedInvitation>;
  /** The newest invitations (at most `limit`); an admin's read is audited as `admin_access`, like every admin read. */
  list(reader: Inviter, limit: number): Promise<Invitation[]>;
  /** Revokes a pending invitation: 404 `not_found` when unknown or no longer pending; 403 beyond the actor's rights. */
  revoke(inviter: Inviter, id: string): Promise<Invitation>;
  /**
   * Creates the invited account, signed in, with the invited address
   * (verified) and role. Single use: of two concurrent uses exactly one
   * succeeds. 400 `invalid_token` (field `invitation`) for an unknown,
   * used, revoked or expired invitation; a refused username or password
   * leaves the invitation usable. The session `replacing` (the one the
   * client presented) ends at sign-in.
   */
  redeem(token: string, input: InvitationRegistration, origin: SessionOrigin, replacing?: string | null): Promise<{ user: User; issued: IssuedSession }>;
  /**
   * A provider sign-up: uses the pending invitation addressed to an email the
   * provider asserted as verified (that proves the address as the mailed link
   * would), creating the account with `create` (given the invitation's
   * address and role). Null when no invitation is pending for the address; a
   * failed `create` gives the invitation back.
   */
  redeemForVerifiedEmail(email: string, create: (invited: { email: string; role: Role }) => Promise<User>, origin: SessionOrigin): Promise<User | null>;
}

/** Creates the {@link InvitationService}. */
export function createInvitationService(deps: {
  store: InvitationStore;
  users: UserStore;
  accounts: AccountService;
  mailer: Mailer;
  regulator: SecretRegulator;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}): InvitationService {
  const { store, users, accounts, mailer, regulator, audit, clock, random } = deps;
  const badToken = () => new GatehouseError("invalid_token", { fields: ["invitation"] });
  const recordUse = (used: Invitation, user: User, origin: SessionOrigin) =>
    audit.record({
      type: "invitation_used",
      userId: user.id,
      actorId: user.id,
      details: { invitationId: used.id, role: used.role, invitedBy: used.createdBy },
      ...origin,
    });

  return {
    async create(inviter, input, options = {}) {
      if (emailProblem(input.email) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
      const role = input.role ?? "user";
      if (inviter.user !== null) checkRoleGrant(inviter.user, role);
      const email = cleanEmail(input.email);
      const emailNormalized = normalizeEmail(input.email);
      if (await users.findByLogin({ email: emailNormalized })) throw new GatehouseError("email_taken", { fields: ["email"] });
      const mail = mailer.enabled;
      if (!mail && options.requireMail) throw new GatehouseError("mail_unavailable");
      // RL-05: invitation mails count toward the invited address's and the admin's IP quota.
      if (mail && inviter.user !== null && !(await mailer.allow(`invite:${emailNormalized}`, inviter.origin.ip))) {
        throw new GatehouseError("rate_limited", { retryAfter: 60 });
      }
      const token = generateToken(random);
      const now = clock.now();
      const invitation: Invitation = {
        id: random.uuid(),
        email,
        emailNormalized,
        role,
        createdBy: inviter.user?.id ?? null,
        createdAt: now,
        expiresAt: now + INVITATION_TTL_MS,
        usedAt: null,
        usedBy: null,
        revokedAt: null,
      };
      const message = mailer.linkMail("invitation", email, token);
      await store.insert({ ...invitation, tokenHash: hashToken(token) }, mail ? [message] : []);
      if (mail) mailer.queued();
      await audit.record({
        type: "invitation_created",
        actorId: inviter.user?.id ?? null,
        details: { invitationId: invitation.id, email, role, via: inviter.user === null ? "cli" : "admin" },
        ...inviter.origin,
      });
      return { invitation, link: mailer.link("invitation", token), mailed: mail };
    },

    async list(reader, limit) {
      if (reader.user !== null) await audit.record({ type: "admin_access", actorId: reader.user.id, details: { what: "invitations" }, ...reader.origin });
      return store.list(limit);
    },

    async revoke(inviter, id) {
      const found = await store.findById(id);
      if (!found) throw new GatehouseError("not_found");
      if (inviter.user !== null) checkRoleGrant(inviter.user, found.role);
      const revoked = await store.revoke(id, clock.now());
      if (!revoked) throw new GatehouseError("not_found");
      await audit.record({ type: "invitation_revoked", actorId: inviter.user?.id ?? null, details: { invitationId: id, email: revoked.email, role: revoked.role }, ...inviter.origin });
      return revoked;
    },

    async redeem(token, input, origin, replacing = null) {
      const tokenHash = isWellFormedToken(token) ? hashToken(token) : null;
      // Guessing invitation tokens counts as failed secret checks of the IP (RL-04).
      const admission = await regulator.admit(origin, null);
      const pending = tokenHash === null ? null : await store.findPending(tokenHash, clock.now());
      await regulator.record(admission, pending !== null);
      if (pending === null || tokenHash === null) throw badToken();
      if (input.email !== undefined && input.email.trim() !== "" && normalizeEmail(input.email) !== pending.emailNormalized) {
        throw new GatehouseError("invalid_request", { fields: ["email"] });
      }
      // The atomic use: of two concurrent registrations with one invitation, only one gets past here.
      const used = await store.consume(tokenHash, clock.now());
      if (!used) throw badToken();
      let registered: Awaited<ReturnType<AccountService["register"]>>;
      try {
        registered = await accounts.register({ username: input.username, password: input.password, email: used.email }, origin, {
          role: used.role,
          emailVerified: true,
          flow: "invitation",
          replacing,
          audit: { actorId: null, details: { via: "invitation", invitationId: used.id, role: used.role } },
        });
      } catch (err) {
        // A refused username or password must not burn the link: it is pending again.
        await store.release(used.id);
        throw err;
      }
      const { user, issued } = registered;
      if (issued === null) throw new Error("invited registration did not sign in");
      await store.setUsedBy(used.id, user.id);
      await recordUse(used, user, origin);
      return { user, issued };
    },

    async redeemForVerifiedEmail(email, create, origin) {
      const used = await store.consumeByEmail(normalizeEmail(email), clock.now());
      if (used === null) return null;
      let user: User;
      try {
        user = await create({ email: used.email, role: used.role });
      } catch (err) {
        await store.release(used.id);
        throw err;
      }
      await store.setUsedBy(used.id, user.id);
      await recordUse(used, user, origin);
      return user;
    },
  };
}
