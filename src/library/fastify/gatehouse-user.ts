import type { AuthMethod, Assurance } from "../../core/sessions/assurance.js";
import { ROLES, type Role } from "../../core/users/user.js";
import type { RequestAuth } from "../../http/types.js";

/** Who signed in, as a host app's route sees it (`request.user`). Never carries a secret. */
export interface GatehouseUser {
  id: string;
  username: string;
  email: string | null;
  role: Role;
  /** The role and every lower one, lowest first (`["user", "admin"]` for an admin): the same list as forward-auth's `Remote-Groups`. */
  groups: readonly Role[];
}

/** The session a host route's request came with (`request.session`); null for an API token. Never carries the token. */
export interface GatehouseSession {
  /** The session's public id (not a secret): what the account page lists and revokes. */
  id: string;
  /** `aal2` when the sign-in proved two kinds of factor. */
  aal: Assurance;
  /** The methods that proved the user at sign-in (RFC 8176: `pwd`, `otp`, `hwk`…). */
  amr: readonly AuthMethod[];
  /** The absolute end of the session (ms since the epoch), whatever the activity. */
  expiresAt: number;
}

const GROUPS = new Map<Role, readonly Role[]>(ROLES.map((role, i) => [role, Object.freeze(ROLES.slice(0, i + 1))]));

/** The host-facing user of a resolved request. */
export function toGatehouseUser(auth: RequestAuth): GatehouseUser {
  const { user } = auth;
  return { id: user.id, username: user.username, email: user.email, role: user.role, groups: GROUPS.get(user.role) ?? [] };
}

/** The host-facing session of a resolved request (null for an API token, which has no session). */
export function toGatehouseSession(auth: RequestAuth): GatehouseSession | null {
  if (auth.via !== "session") return null;
  const { session } = auth;
  return { id: session.id, aal: session.aal, amr: session.amr, expiresAt: session.expiresAt };
}
