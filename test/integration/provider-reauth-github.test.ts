import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames, type Backend } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";
import { csrfOf, formBody } from "../helpers/web-client.js";

// GitHub cannot be asked for a fresh sign-in (no prompt=login, no auth_time): it never confirms a re-authentication.
describe.each(backendNames())("re-authentication through GitHub (%s)", (backend: Backend["name"]) => {
  let h: Harness;
  beforeAll(async () => {
    const github = providerSettings({
      id: "github",
      type: "github",
      name: "GitHub",
      issuer: "https://github.com",
      clientId: "gh-client",
      clientSecret: "gh-secret-0123456789",
      scopes: ["read:user", "user:email"],
      privateNetwork: false,
      github: { authorizationEndpoint: "https://github.com/login/oauth/authorize", tokenEndpoint: "https://github.com/login/oauth/access_token", apiUrl: "https://api.github.com" },
    });
    h = await startHarness(backend, {}, undefined, { providers: [github] });
  });
  afterAll(async () => h?.close());

  const start = async (intent: string) => {
    const user = await h.account("user");
    const page = await h.request({ method: "GET", url: "/account", cookie: user.cookie });
    return h.request({ method: "POST", url: "/api/auth/oauth/github/start", cookie: user.cookie, payload: formBody({ _csrf: csrfOf(page.body)!, intent }), headers: { "content-type": "application/x-www-form-urlencoded" } });
  };

  it("attack: sudo through GitHub's remembered session: intent=reauth is refused (400) and no round trip starts", async () => {
    const res = await start("reauth");
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.cookies.some((c) => c.name.endsWith("gatehouse_oauth"))).toBe(false);
  });

  it("linking GitHub still starts a round trip to its authorization endpoint (with PKCE S256)", async () => {
    const res = await start("link");
    expect(res.statusCode).toBe(303);
    const to = new URL(String(res.headers.location));
    expect(`${to.origin}${to.pathname}`).toBe("https://github.com/login/oauth/authorize");
    expect(to.searchParams.get("code_challenge_method")).toBe("S256");
  });
});
