import type { ProviderSettings } from "../../../src/core/oauth/identity-provider.js";

/** ProviderSettings for a test provider, with the fields that matter given. */
export function providerSettings(fields: Pick<ProviderSettings, "issuer" | "clientId" | "clientSecret"> & Partial<ProviderSettings>): ProviderSettings {
  return {
    id: "test-idp",
    type: "oidc",
    name: "Test IdP",
    scopes: ["openid", "email", "profile"],
    enabled: true,
    autoLink: false,
    emailDomains: [],
    secondFactor: "admins",
    roles: null,
    caFile: null,
    privateNetwork: true,
    github: null,
    ...fields,
  };
}
