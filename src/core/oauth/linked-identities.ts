import type { AuditLog } from "../audit/audit-log.js";
import { GatehouseError } from "../errors.js";
import type { Session } from "../sessions/session.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { User } from "../users/user.js";
import type { ExternalIdentityStore } from "./external-identity-store.js";
import type { ProviderRegistry } from "./provider-registry.js";

/** A linked identity as its owner (and admins) see it. */
export interface LinkedIdentityView {
  id: string;
  provider: string;
  providerName: string;
  email: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** The identities linked to an account: listing, and unlinking (never the last way to sign in). */
export interface LinkedIdentities {
  list(userId: string): Promise<LinkedIdentityView[]>;
  /**
   * Unlinks one of the user's identities after a recent re-authentication
   * (403 `reauth_required`); 404 `not_found` when it is not theirs; 409
   * `last_sign_in_method` when nothing else could sign the account in (no
   * usable password, no passkey, no other identity).
   */
  unlink(user: User, session: Session, identityId: string, origin: SessionOrigin): Promise<void>;
}

/** Dependencies of {@link createLinkedIdentities}. */
export interface LinkedIdentitiesDeps {
  identities: Pick<ExternalIdentityStore, "listByUser" | "delete">;
  providers: Pick<ProviderRegistry, "nameOf" | "get">;
  /** `PASSWORD_LOGIN`: off, a password signs nobody in. */
  passwordLogin: boolean;
  /** True when the user has a passkey (it signs in without a password). */
  hasPasskey: (userId: string) => Promise<boolean>;
  requireRecentAuth: (session: Session) => void;
  audit: AuditLog;
}

/** Creates the {@link LinkedIdentities}. */
export function createLinkedIdentities(deps: LinkedIdentitiesDeps): LinkedIdentities {
  const { identities, providers, passwordLogin, hasPasskey, requireRecentAuth, audit } = deps;
  return {
    async list(userId) {
      return (await identities.listByUser(userId)).map((i) => ({ id: i.id, provider: i.provider, providerName: providers.nameOf(i.provider), email: i.email, createdAt: i.createdAt, lastUsedAt: i.lastUsedAt }));
    },

    async unlink(user, session, identityId, origin) {
      requireRecentAuth(session);
      const linked = await identities.listByUser(user.id);
      const target = linked.find((i) => i.id === identityId);
      if (target === undefined) throw new GatehouseError("not_found");
      // What else signs this account in: a password (when password sign-in is on), a passkey, another enabled provider.
      const others = linked.filter((i) => i.id !== identityId && providers.get(i.provider) !== null).length;
      const password = passwordLogin && user.passwordHash !== null;
      if (!password && others === 0 && !(await hasPasskey(user.id))) throw new GatehouseError("last_sign_in_method");
      if (!(await identities.delete(user.id, identityId))) throw new GatehouseError("not_found");
      await audit.record({ type: "oauth_unlink", userId: user.id, actorId: user.id, details: { provider: target.provider }, ...origin });
    },
  };
}
