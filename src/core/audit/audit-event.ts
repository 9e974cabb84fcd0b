/** The audit event types of docs/api.md. */
export const AUDIT_EVENT_TYPES = [
  "login_success", "login_failure", "logout", "register", "password_change", "password_upgraded",
  "password_reset_requested", "password_reset", "email_verified", "role_change",
  "user_blocked", "user_unblocked", "user_deleted", "session_revoked",
  "mfa_enabled", "mfa_disabled", "mfa_failure", "api_token_created",
  "api_token_revoked", "admin_access", "rate_limited", "account_locked",
  "ip_banned", "settings_changed", "backup_exported", "database_imported", "users_imported",
  "suspicious_activity",
  "invitation_created", "invitation_used", "invitation_revoked",
  "key_rotated",
  "mfa_recovery_used", "mfa_locked", "mfa_reset", "mfa_step_up",
  "webauthn_registered", "webauthn_removed", "webauthn_counter_regression",
  "oauth_login", "oauth_link", "oauth_unlink", "oauth_failure",
  "upload_refused",
  "secret_changed",
] as const;

/** One of the audit event types. */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Details of an event: plain values only, never a password, token or secret. */
export type AuditDetails = Record<string, string | number | boolean | null>;

/** A security event as recorded. */
export interface AuditEvent {
  id: string;
  type: AuditEventType;
  at: number;
  userId: string | null;
  actorId: string | null;
  ip: string;
  userAgent: string;
  /** The request that caused the event (also the X-Request-Id response header). */
  requestId: string | null;
  details: AuditDetails;
}

/** What a caller supplies to record an event. */
export type NewAuditEvent = Omit<AuditEvent, "id" | "at" | "userId" | "actorId" | "details" | "requestId"> & {
  userId?: string | null;
  actorId?: string | null;
  requestId?: string | null;
  details?: AuditDetails;
};
