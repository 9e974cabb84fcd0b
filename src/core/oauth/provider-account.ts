import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { InvitationService } from "../invitations/invitation-service.js";
import type { Random } from "../random.js";
import { checkEmailDomain, type RegistrationMode } from "../registration/registration-mode.js";
import type { SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { AccountService } from "../users/account-service.js";
import { normalizeEmail } from "../users/email.js";
import type { Role, User } from "../users/user.js";
import type { UserStore } from "../users/user-store.js";
import { usernameCandidates } from "./username-candidates.js";
import type { ExternalProfile, ProviderSettings } from "./identity-provider.js";
import type { ExternalIdentityStore } from "./external-identity-store.js";

/** Dependencies of {@link createProviderAccounts}. */
export interface ProviderAccountsDeps {
  identities: ExternalIdentityStore;
  users: Pick<UserStore, "findById" | "findByLogin" | "update" | "delete">;
  accounts: Pick<AccountService, "createWithoutPassword">;
  invitations: Pick<InvitationService, "redeemForVerifiedEmail">;
  /** The registration mode in force (admin setting, else `REGISTRATION`) and `REGISTRATION_EMAIL_DOMAINS`. */
  registration: { mode(): Promise<RegistrationMode>; emailDomains: readonly string[] };
  sessions: Pick<SessionService, "revokeAllForUser" | "forgetUser">;
  audit: AuditLog;
  clock: Clock;
  random: Random;
}

/** The account a provider sign-in proved, and how it was found. */
export interface ProvedAccount {
  user: User;
  identityId: string;
  /** `linked`: found by its identity; `auto_linked`: linked now by a verified address; `created`: a new account. */
  how: "linked" | "auto_linked" | "created";
}

/**
 * Finds or makes the local account of a checked provider profile (OIDC-05):
 * by its identity (issuer, subject) only; a first sign-in links to the
 * account with the same address only when the operator turned auto-linking
 * on for the provider AND the provider says the address is verified;
 * otherwise it creates an account when registration allows it (open, or an
 * invitation to the verified address), or refuses with the one answer
 * `oauth_account_not_linked` whether or not an account has that address.
 */
export interface ProviderAccounts {
  resolve(provider: ProviderSettings, profile: ExternalProfile, origin: SessionOrigin): Promise<ProvedAccount>;
  /** Applies the provider's role mapping (never to or from superadmin); a change ends the account's sessions (SESS-11). */
  applyRoles(provider: ProviderSettings, profile: ExternalProfile, user: User, origin: SessionOrigin): Promise<User>;
}

/** The highest role the mapping gives the claim values (`user` when none matches). */
export function mappedRole(provider: ProviderSettings, values: readonly string[]): Exclude<Role, "superadmin"> | null {
  if (provider.roles === null) return null;
  const map = provider.roles.map;
  return values.some((v) => Object.hasOwn(map, v) && map[v] === "admin") ? "admin" : "user";
}

/** Creates the {@link ProviderAccounts}. */
export function createProviderAccounts(deps: ProviderAccountsDeps): ProviderAccounts {
  const { identities, users, accounts, invitations, registration, sessions, audit, clock, random } = deps;
  const notLinked = () => new GatehouseError("oauth_account_not_linked");

  async function link(provider: ProviderSettings, profile: ExternalProfile, user: User): Promise<string> {
    const id = random.uuid();
    const result = await identities.insert({ id, userId: user.id, provider: provider.id, issuer: profile.issuer, subject: profile.subject, email: profile.email, createdAt: clock.now(), lastUsedAt: clock.now() });
    if (!result.ok) throw new GatehouseError(result.conflict === "identity_taken" ? "identity_in_use" : "provider_already_linked");
    return id;
  }

  /** Creates an account for the profile with the first free username; the address only when verified. */
  async function create(provider: ProviderSettings, profile: ExternalProfile, role: Role, email: string | null, origin: SessionOrigin): Promise<User> {
    let lastError: GatehouseError | null = null;
    for (const username of usernameCandidates(profile, random)) {
      try {
        return await accounts.createWithoutPassword({ username, email }, role, origin, null, { emailVerified: email !== null, details: { via: "oauth", provider: provider.id, role } });
      } catch (err) {
        if (err instanceof GatehouseError && err.code === "username_taken") {
          lastError = err;
          continue;
        }
        throw err;
      }
    }
    throw lastError ?? new GatehouseError("username_taken");
  }

  return {
    async resolve(provider, profile, origin) {
      const known = await identities.findBySubject(profile.issuer, profile.subject);
      if (known !== null) {
        const user = await users.findById(known.userId);
        if (user === null) throw notLinked();
        await identities.recordUse(known.id, profile.email, clock.now());
        return { user, identityId: known.id, how: "linked" };
      }
      const verified = profile.emailVerified && profile.email !== null ? profile.email : null;
      // Any address the provider gives, verified or not, may belong to a local account: never a second account with it.
      const holder = profile.email === null ? null : await users.findByLogin({ email: normalizeEmail(profile.email) });
      if (holder !== null) {
        if (provider.autoLink && verified !== null && normalizeEmail(verified) === normalizeEmail(holder.email ?? "")) {
          const identityId = await link(provider, profile, holder);
          await audit.record({ type: "oauth_link", userId: holder.id, actorId: holder.id, details: { provider: provider.id, auto: true }, ...origin });
          return { user: holder, identityId, how: "auto_linked" };
        }
        throw notLinked();
      }
      if (provider.emailDomains.length > 0) checkEmailDomain(verified ?? undefined, provider.emailDomains);
      let user: User | null = null;
      if ((await registration.mode()) === "open") {
        checkEmailDomain(verified ?? undefined, registration.emailDomains);
        user = await create(provider, profile, mappedRole(provider, profile.roleClaimValues) ?? "user", verified, origin);
      } else if (verified !== null) {
        // closed or invite: only an invitation addressed to the verified address makes an account.
        user = await invitations.redeemForVerifiedEmail(verified, (invited) => create(provider, profile, invited.role, invited.email, origin), origin);
      }
      if (user === null) throw notLinked();
      try {
        const identityId = await link(provider, profile, user);
        return { user, identityId, how: "created" };
      } catch (err) {
        // A concurrent first sign-in of the same identity won: this account must not stay behind half-made.
        await users.delete(user.id);
        throw err;
      }
    },

    async applyRoles(provider, profile, user, origin) {
      const role = mappedRole(provider, profile.roleClaimValues);
      if (role === null || user.role === "superadmin" || user.role === role) return user;
      await users.update(user.id, { role }, clock.now());
      // A role change ends every session of the account (SESS-11), as when an admin makes it.
      await sessions.revokeAllForUser(user.id);
      await audit.record({ type: "role_change", userId: user.id, actorId: null, details: { from: user.role, to: role, via: "oauth", provider: provider.id }, ...origin });
      return (await users.findById(user.id)) ?? user;
    },
  };
}
