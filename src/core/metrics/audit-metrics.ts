import type { AuditSink } from "../audit/audit-log.js";
import type { Metrics, SignInMethodLabel } from "./metrics.js";

/** `login_success`'s `details.method` (the first factor) and the second-factor methods, as metric labels. */
const METHODS: Readonly<Record<string, SignInMethodLabel>> = {
  password: "password",
  hardware_key: "passkey",
  software_key: "passkey",
  passkey: "passkey",
  webauthn: "passkey",
  one_time_code: "totp",
  totp: "totp",
  recovery_code: "recovery_code",
  provider: "provider",
  api_token: "api_token",
};

/** Password checks of a signed-in user (a change of password, a re-authentication): not sign-in attempts. */
const NOT_SIGN_INS: ReadonlySet<unknown> = new Set(["wrong_current_password", "wrong_reauth_password"]);

const methodOf = (value: unknown): SignInMethodLabel => (typeof value === "string" ? (METHODS[value] ?? "other") : "other");

/**
 * Feeds {@link Metrics} from the audit trail, the one place every sign-in
 * outcome is already recorded: `login_success` (by its first factor),
 * `login_failure` (password unless it names another method), `mfa_failure`
 * (a refused second factor, by method), `oauth_failure` (a provider round
 * trip that failed) and `ip_banned`. Only fixed labels leave this function:
 * never the user, the IP or a free-text detail.
 */
export function auditMetrics(metrics: Metrics): AuditSink {
  return (event) => {
    switch (event.type) {
      case "login_success":
        metrics.signIn(methodOf(event.details.method), "success");
        return;
      case "login_failure":
        if (NOT_SIGN_INS.has(event.details.reason)) return;
        metrics.signIn(event.details.method === undefined ? "password" : methodOf(event.details.method), "failure");
        return;
      case "mfa_failure":
        metrics.signIn(methodOf(event.details.method), "failure");
        return;
      case "oauth_failure":
        metrics.signIn("provider", "failure");
        return;
      case "ip_banned":
        metrics.ban();
        return;
      default:
    }
  };
}
