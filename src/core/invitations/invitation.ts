import type { Role } from "../users/user.js";

/** How long an invitation link works: 7 days. */
export const INVITATION_TTL_MS = 7 * 86_400_000;

/** An invitation as stored: the token itself is never kept, only its SHA-256. */
export interface Invitation {
  id: string;
  /** The invited address (display form); the account gets exactly this address. */
  email: string;
  emailNormalized: string;
  /** The role the account gets (chosen by the admin within their own rights). */
  role: Role;
  /** The admin who invited (null: the operator's CLI, or a since-deleted admin). */
  createdBy: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  /** The account created with it (null until used, or once that account is deleted). */
  usedBy: string | null;
  revokedAt: number | null;
}

/** The state of an invitation at a given time. */
export type InvitationStatus = "pending" | "used" | "revoked" | "expired";

/** The status of `invitation` at `now`. */
export function invitationStatus(invitation: Invitation, now: number): InvitationStatus {
  if (invitation.usedAt !== null) return "used";
  if (invitation.revokedAt !== null) return "revoked";
  return invitation.expiresAt <= now ? "expired" : "pending";
}
