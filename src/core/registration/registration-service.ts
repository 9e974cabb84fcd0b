import { GatehouseError } from "../errors.js";
import type { InvitationService } from "../invitations/invitation-service.js";
import type { IssuedSession, SessionOrigin } from "../sessions/session-service.js";
import type { SettingsService } from "../settings/settings-service.js";
import type { AccountService } from "../users/account-service.js";
import type { EmailVerification } from "../users/email-verification.js";
import type { User } from "../users/user.js";
import { checkEmailDomain, type RegistrationMode } from "./registration-mode.js";

/** A registration request: self-service, or with an invitation token. */
export interface RegistrationRequest {
  username: string;
  password: string;
  email?: string | undefined;
  /** The invitation token (from the link's fragment). */
  invitation?: string | undefined;
  /** The session token the client presented: it ends when the new account signs in. */
  replacing?: string | null | undefined;
}

/** The outcome: an account (signed in), or a verification mail sent (no session yet). */
export type RegistrationOutcome = { status: "registered"; user: User; issued: IssuedSession | null } | { status: "verification_sent"; issued: null };

/**
 * `POST /api/auth/register` and the sign-up pages: applies the registration
 * mode. With an invitation, the invited account is created in every mode.
 * Without one: 403 `registration_closed` unless the mode is `open`; then the
 * email-domain allow-list (403 `email_domain_not_allowed`), then email
 * verification when required.
 */
export interface RegistrationService {
  /** The mode in force (the admin setting, else `REGISTRATION`). */
  mode(): Promise<RegistrationMode>;
  register(input: RegistrationRequest, origin: SessionOrigin): Promise<RegistrationOutcome>;
}

/** Creates the {@link RegistrationService}. */
export function createRegistrationService(deps: {
  settings: Pick<SettingsService, "current">;
  accounts: AccountService;
  invitations: InvitationService;
  emailVerification?: EmailVerification | undefined;
  /** `REGISTRATION_EMAIL_DOMAINS`; empty: any address (or none). */
  emailDomains: readonly string[];
  /** `PASSWORD_LOGIN` (default on): off, no account is made with a password (403 `password_login_disabled`); providers make them. */
  passwordLogin?: boolean;
}): RegistrationService {
  const { settings, accounts, invitations, emailVerification, emailDomains } = deps;

  async function mode(): Promise<RegistrationMode> {
    return (await settings.current()).registration;
  }

  return {
    mode,
    async register(input, origin) {
      if (deps.passwordLogin === false) throw new GatehouseError("password_login_disabled");
      if (input.invitation !== undefined) {
        const { user, issued } = await invitations.redeem(input.invitation, input, origin, input.replacing);
        return { status: "registered", user, issued };
      }
      if ((await mode()) !== "open") throw new GatehouseError("registration_closed");
      checkEmailDomain(input.email, emailDomains);
      const fields = { username: input.username, password: input.password, email: input.email };
      // Email verification required: the same answer for new and registered addresses, and no session (RST-07).
      if (emailVerification && (await emailVerification.required())) {
        await emailVerification.register(fields, origin);
        return { status: "verification_sent", issued: null };
      }
      const { user, issued } = await accounts.register(fields, origin, { replacing: input.replacing ?? null });
      return { status: "registered", user, issued };
    },
  };
}
