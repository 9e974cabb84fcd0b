import type { AccessRules } from "../gateway/access-rules.js";
import { userSecretNames } from "./header-template.js";

const memo = new WeakMap<AccessRules, ReadonlySet<string>>();

/**
 * The key names users may store: every `${user_secret:<name>}` of the rules'
 * `inject_headers`. A user cannot store a key no rule would ever inject.
 * Computed once per rule set (start, reload).
 */
export function userKeyNamesOf(rules: AccessRules): ReadonlySet<string> {
  let names = memo.get(rules);
  if (names === undefined) {
    names = new Set(rules.upstreams.flatMap((u) => (u.injectHeaders ?? []).flatMap((h) => userSecretNames(h.template))));
    memo.set(rules, names);
  }
  return names;
}
