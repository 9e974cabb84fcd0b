import type { AuthMethod } from "../core/sessions/assurance.js";
import type { Session } from "../core/sessions/session.js";

const NAMES: Record<AuthMethod, string> = { pwd: "password", otp: "code", hwk: "security key", swk: "software key", mfa: "PIN or biometric", fed: "identity provider" };

/** How a session was signed in, in a few words: `password`, or `password + code · 2 factors`. */
export function describeSignIn(session: Pick<Session, "aal" | "amr">): string {
  const methods = session.amr.map((m) => NAMES[m]).join(" + ");
  return session.aal === "aal2" ? `${methods} · 2 factors` : methods;
}
