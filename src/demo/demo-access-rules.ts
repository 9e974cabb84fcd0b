import type { AccessRules } from "../core/gateway/access-rules.js";
import { canonicalHost } from "../core/gateway/canonical-request.js";

/**
 * The access rules of demo mode (no `GATEHOUSE_CONFIG`, no upstream), on the
 * portal's own host: `/demo/admin` for role admin and above, the rest of
 * `/demo/` for anyone signed in; everything else denied.
 */
export function demoAccessRules(publicUrl: string): AccessRules {
  const portal = new URL(publicUrl);
  const host = canonicalHost(portal.host, portal.protocol.slice(0, -1));
  const domains = host === null ? [] : [{ exact: host.hostname }];
  // Fixed by the code, anchored, without repetition: linear on the native engine (rules from a file run on RE2, docs/adr/0007).
  const admin = /^\/demo\/admin(?:[/?]|$)/;
  const demo = /^\/demo(?:[/?]|$)/;
  return {
    defaultPolicy: "deny",
    rules: [
      { domains, resources: [{ source: admin.source, test: (p) => admin.test(p) }], methods: null, networks: null, subjects: [{ kind: "group", role: "admin" }], policy: "one_factor", origin: "demo rule 1 (/demo/admin: group:admin)" },
      { domains, resources: [{ source: admin.source, test: (p) => admin.test(p) }], methods: null, networks: null, subjects: null, policy: "deny", origin: "demo rule 2 (/demo/admin: everyone else)" },
      { domains, resources: [{ source: demo.source, test: (p) => demo.test(p) }], methods: null, networks: null, subjects: null, policy: "one_factor", origin: "demo rule 3 (/demo/: signed in)" },
    ],
    upstreams: [],
  };
}
