import { ROLES, type User } from "../users/user.js";
import type { IdentityHeaders } from "./access-decision.js";

/** The four headers of an anonymous request on a bypass rule: present, and empty. */
export const ANONYMOUS_HEADERS: Readonly<IdentityHeaders> = Object.freeze({ "Remote-User": "", "Remote-Email": "", "Remote-Name": "", "Remote-Groups": "" });

const GROUPS = new Map(ROLES.map((role, i) => [role, ROLES.slice(0, i + 1).join(",")]));

/** A header-safe value: printable ASCII only, else empty (a header never carries a control character). */
function headerValue(value: string | null): string {
  return value !== null && /^[\x20-\x7e]*$/.test(value) ? value : "";
}

/** The identity headers for a signed-in user: `Remote-Groups` lists the user's role and every lower one. */
export function identityHeaders(user: User): IdentityHeaders {
  return {
    "Remote-User": headerValue(user.username),
    "Remote-Email": headerValue(user.email),
    "Remote-Name": headerValue(user.username),
    "Remote-Groups": GROUPS.get(user.role) ?? "",
  };
}
