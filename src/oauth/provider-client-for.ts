import { readFileSync } from "node:fs";
import type { ProviderClient, ProviderSettings } from "../core/oauth/identity-provider.js";
import { createGithubClient } from "./github-client.js";
import { createOidcClient } from "./oidc-client.js";
import { createOutboundFetch } from "./outbound-fetch.js";

/**
 * The protocol client of one configured provider, with its own outbound
 * fetch (OIDC-07: https only, its CA file if any, its address policy, no
 * redirects, a deadline): OpenID Connect for `oidc` and `google`, GitHub's
 * OAuth for `github`.
 */
export function providerClientFor(settings: ProviderSettings): ProviderClient {
  const fetch = createOutboundFetch({ caPem: settings.caFile === null ? null : readFileSync(settings.caFile, "utf8"), privateNetwork: settings.privateNetwork });
  return settings.type === "github" ? createGithubClient(settings, { fetch }) : createOidcClient(settings, { fetch });
}
