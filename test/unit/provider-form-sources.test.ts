import { describe, expect, it } from "vitest";
import { providerFormSources } from "../../src/core/oauth/provider-form-sources.js";
import { computeHtmlSecurityHeaders } from "../../src/http/plugins/security-headers.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";

const secret = { clientId: "gatehouse", clientSecret: "s3cret-s3cret-s3cret" };

describe("the providers' sign-in origins in the pages' form-action", () => {
  it("an OpenID Connect provider's issuer origin, GitHub's authorization endpoint's; disabled providers and duplicates left out", () => {
    const providers = [
      providerSettings({ ...secret, id: "corp", issuer: "https://sso.example.com/realms/corp" }),
      providerSettings({ ...secret, id: "corp2", issuer: "https://sso.example.com/realms/other" }),
      providerSettings({ ...secret, id: "google", type: "google", issuer: "https://accounts.google.com" }),
      providerSettings({
        ...secret,
        id: "github",
        type: "github",
        issuer: "https://github.example.com",
        github: { authorizationEndpoint: "https://login.github.example.com:8443/login/oauth/authorize", tokenEndpoint: "https://github.example.com/login/oauth/access_token", apiUrl: "https://github.example.com/api/v3" },
      }),
      providerSettings({ ...secret, id: "off", issuer: "https://disabled.example.com", enabled: false }),
    ];
    expect(providerFormSources(providers)).toEqual(["https://sso.example.com", "https://accounts.google.com", "https://login.github.example.com:8443"]);
    expect(providerFormSources([])).toEqual([]);
  });

  it("listed on every page after the return targets", () => {
    const headers = computeHtmlSecurityHeaders(true, () => ({ portal: "", hosts: ["https://app.example.com:*"] }), ["https://sso.example.com"]);
    const csp = headers.forResponse("nonce", "")["Content-Security-Policy"] ?? "";
    expect(/form-action ([^;]*)/.exec(csp)?.[1]).toBe("'self' https://app.example.com:* https://sso.example.com");
  });
});
