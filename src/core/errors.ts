/**
 * The one error type of Gatehouse. Every failure that reaches a client is a
 * {@link GatehouseError} with a code from {@link errorCodes}; the HTTP layer
 * maps it to `{error, code}` and the registered status.
 */

/** Every error code with its HTTP status and the message shown to clients. */
export const errorCodes = {
  invalid_request: { status: 400, message: "The request is invalid" },
  invalid_json: { status: 400, message: "The request body is not valid JSON" },
  integrity_error: { status: 400, message: "The backup is damaged or was altered, or the passphrase is wrong" },
  invalid_backup: { status: 400, message: "The backup is not valid; nothing was changed" },
  import_invalid: { status: 400, message: "The import file or its mapping is not valid; nothing was imported" },
  passphrase_required: { status: 400, message: "This backup is encrypted; a passphrase is required" },
  password_too_short: { status: 400, message: "The password is too short" },
  password_too_long: { status: 400, message: "The password is too long" },
  password_common: { status: 400, message: "This password is too common; choose another one" },
  password_contextual: {
    status: 400,
    message: "The password must not contain your username, your email address or the product name",
  },
  passkey_rejected: { status: 400, message: "The passkey could not be registered; try again" },
  invalid_token: { status: 400, message: "This link is invalid, was already used or has expired" },
  oauth_state_invalid: { status: 400, message: "This sign-in link is invalid, was already used or was started in another browser; start again" },
  oauth_failed: { status: 400, message: "The sign-in with the identity provider did not succeed; start again" },
  unauthenticated: { status: 401, message: "Authentication required" },
  invalid_credentials: { status: 401, message: "Invalid username or password" },
  invalid_second_factor: { status: 401, message: "The code is incorrect" },
  invalid_passkey: { status: 401, message: "The passkey could not be verified" },
  sign_in_expired: { status: 401, message: "This sign-in has expired; sign in again" },
  mfa_required: { status: 401, message: "A second factor is required; confirm it is you with your second factor" },
  forbidden: { status: 403, message: "You are not allowed to do this" },
  csrf: { status: 403, message: "Cross-site request refused" },
  account_blocked: { status: 403, message: "This account is blocked" },
  invalid_password: { status: 403, message: "The current password is incorrect" },
  reauth_required: { status: 403, message: "Please confirm your password to continue" },
  mfa_enrollment_required: { status: 403, message: "Set up a second factor before using administrator functions" },
  registration_closed: { status: 403, message: "Registration is closed" },
  oauth_account_not_linked: {
    status: 403,
    message: "No account is linked to this sign-in. If you have an account, sign in another way and link the provider on your account page; otherwise ask an administrator for an invitation",
  },
  password_login_disabled: { status: 403, message: "Password sign-in is turned off; sign in with an identity provider" },
  email_domain_not_allowed: { status: 403, message: "Registration is open only to email addresses of the allowed domains" },
  not_found: { status: 404, message: "Not found" },
  method_not_allowed: { status: 405, message: "Method not allowed" },
  username_taken: { status: 409, message: "This username is already taken" },
  email_taken: { status: 409, message: "This email address is already registered" },
  import_conflict: { status: 409, message: "A username or email address was taken while importing; nothing was imported, run the import again" },
  last_superadmin: { status: 409, message: "The last superadmin cannot be demoted, blocked or deleted" },
  mail_unavailable: { status: 409, message: "Outgoing mail is not configured, so no link can be sent" },
  user_has_no_email: { status: 409, message: "This user has no email address" },
  identity_in_use: { status: 409, message: "This provider account is already linked to another account" },
  provider_already_linked: { status: 409, message: "An account of this provider is already linked; unlink it first" },
  last_sign_in_method: { status: 409, message: "This is your last way to sign in; set a password or add another sign-in method first" },
  last_second_factor: { status: 409, message: "Your last second factor cannot be removed while a second factor is required for your account; add another one first" },
  too_many_passkeys: { status: 409, message: "Too many passkeys; remove one first" },
  too_many_tokens: { status: 409, message: "Too many API tokens; revoke one first" },
  enrolment_not_started: { status: 409, message: "Start setting up the authenticator app first" },
  second_factor_required: { status: 409, message: "Set up a second factor (an authenticator app or a passkey) first" },
  request_timeout: { status: 408, message: "The request took too long to arrive" },
  payload_too_large: { status: 413, message: "The request body is too large" },
  upload_too_large: { status: 413, message: "The uploaded file is larger than this upload allows" },
  unsupported_media_type: { status: 415, message: "Unsupported content type; send application/json" },
  upload_type_refused: { status: 415, message: "This type of file is not accepted here" },
  upload_rejected: { status: 422, message: "The uploaded file was refused as unsafe or invalid" },
  rate_limited: { status: 429, message: "Too many requests; try again later" },
  headers_too_large: { status: 431, message: "The request headers are too large" },
  internal: { status: 500, message: "An internal error occurred" },
  secret_unreadable: { status: 500, message: "A stored secret cannot be decrypted with the server's keys; the operator must restore the right keyring" },
  bad_gateway: { status: 502, message: "The protected app did not answer" },
  oauth_provider_unavailable: { status: 502, message: "The identity provider could not be reached or answered wrongly; try again later" },
  not_ready: { status: 503, message: "Service not ready" },
  overloaded: { status: 503, message: "Too many sign-ins in progress; try again in a moment" },
  upload_scan_failed: { status: 503, message: "The uploaded file could not be checked for viruses; try again later" },
  unavailable: { status: 503, message: "Service temporarily unavailable; try again later" },
} as const satisfies Record<string, { status: number; message: string }>;

/** A machine-readable error code from the registry. */
export type ErrorCode = keyof typeof errorCodes;

/** Optional details carried by an error; none of them may hold a secret. */
export interface ErrorDetails {
  /** Names of the offending input fields (never their values). */
  fields?: string[];
  /** Seconds after which a retry may succeed (429/503). */
  retryAfter?: number;
  /** The underlying cause, logged but never sent to clients. */
  cause?: unknown;
}

/** The single error type; `code` selects status and public message. */
export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly fields: string[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, details: ErrorDetails = {}) {
    super(errorCodes[code].message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "GatehouseError";
    this.code = code;
    this.status = errorCodes[code].status;
    this.fields = details.fields;
    this.retryAfter = details.retryAfter;
  }
}

/** True when `err` is a {@link GatehouseError} (optionally with the given code). */
export function isGatehouseError(err: unknown, code?: ErrorCode): err is GatehouseError {
  return err instanceof GatehouseError && (code === undefined || err.code === code);
}
