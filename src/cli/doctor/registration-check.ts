import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/**
 * Who may create an account (`REGISTRATION`). `open` lets anyone on the
 * internet pass every `one_factor` rule, so it is a warning unless
 * `REGISTRATION_EMAIL_DOMAINS` narrows it. The mode saved by a superadmin in
 * the admin settings wins over the variable; doctor reads only the variable.
 */
export function registrationCheck(ctx: DoctorContext): Finding[] {
  const config = ctx.config;
  if (config === null || ctx.broken.has("REGISTRATION")) return [];
  const override = "a mode saved in the admin settings (dashboard or PATCH /api/admin/settings) wins over REGISTRATION";
  if (config.registration.mode === "open" && config.registration.emailDomains.length === 0) {
    return [
      {
        level: "warn",
        message: "REGISTRATION=open: anyone who reaches the portal can create an account and pass every one_factor rule",
        fix: `use REGISTRATION=invite or closed and invite people (gatehouse user invite <email>), or limit open sign-up with REGISTRATION_EMAIL_DOMAINS; ${override}`,
      },
    ];
  }
  const domains = config.registration.emailDomains.length > 0 ? ` (email domains: ${config.registration.emailDomains.join(", ")})` : "";
  return [{ level: "info", message: `registration mode: ${config.registration.mode}${domains}`, fix: override }];
}
