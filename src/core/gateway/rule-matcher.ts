import { atLeast } from "../rbac/permissions.js";
import type { User } from "../users/user.js";
import { domainMatches, type AccessRule, type AccessRules, type Policy } from "./access-rules.js";

/** The canonical request facts a rule is matched against. */
export interface MatchInput {
  hostname: string;
  /** Canonical path, plus `?query` when there is one. */
  resource: string;
  method: string;
  ip: string;
}

/** The policy that applies, and the rule that decided it (null: the default policy). */
export interface MatchResult {
  policy: Policy;
  rule: AccessRule | null;
}

function subjectMatches(rule: AccessRule, user: User | null): boolean {
  if (rule.subjects === null) return true;
  // Anonymous requests "potentially" match a rule with subjects (Authelia): they are asked to sign in.
  if (user === null) return true;
  const username = user.username.toLowerCase();
  return rule.subjects.some((s) => (s.kind === "user" ? s.username === username : atLeast(user.role, s.role)));
}

/** Authelia's evaluation: the rules in order, the first whose every condition holds wins; else the default policy. */
export function matchRules(rules: AccessRules, input: MatchInput, user: User | null): MatchResult {
  for (const rule of rules.rules) {
    if (!rule.domains.some((d) => domainMatches(d, input.hostname))) continue;
    if (rule.methods !== null && !rule.methods.has(input.method)) continue;
    if (rule.networks !== null && !rule.networks.contains(input.ip)) continue;
    if (rule.resources !== null && !rule.resources.some((r) => r.test(input.resource))) continue;
    if (!subjectMatches(rule, user)) continue;
    return { policy: rule.policy, rule };
  }
  return { policy: rules.defaultPolicy, rule: null };
}
