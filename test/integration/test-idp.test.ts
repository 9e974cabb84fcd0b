import * as client from "openid-client";
import { Agent, fetch } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestIdp, type TestIdp } from "../helpers/oauth/test-idp.js";

// The local OpenID Connect provider the provider sign-in suites use, driven by openid-client as the relying party.
describe("test identity provider (oidc-provider fixture)", () => {
  const redirectUri = "https://rp.example.test/callback";
  const alice = { sub: "alice-sub", login: "alice", password: "alice-pass", email: "alice@example.test", email_verified: true, name: "Alice Liddell", preferred_username: "alice", groups: ["admins", "staff"] };
  let idp: TestIdp;
  let agent: Agent;
  let config: client.Configuration;

  beforeAll(async () => {
    idp = await startTestIdp({ users: [alice] });
    await idp.registerClient({ client_id: "gatehouse", client_secret: "s3cret-s3cret", redirect_uris: [redirectUri] });
    agent = new Agent({ connect: { ca: [idp.ca] } });
    const customFetch: client.CustomFetch = (url, options) => fetch(url, { ...options, dispatcher: agent } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
    config = await client.discovery(new URL(idp.issuer), "gatehouse", undefined, client.ClientSecretBasic("s3cret-s3cret"), { [client.customFetch]: customFetch });
  });

  afterAll(async () => {
    await idp?.close();
    await agent?.close();
  });

  async function start(scope = "openid email profile groups", extra: Record<string, string> = {}) {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...extra,
    });
    return { url, codeVerifier, state, nonce };
  }

  it("serves discovery over HTTPS with the expected issuer, PKCE S256 only, the iss response parameter and both secret auth methods", () => {
    const meta = config.serverMetadata();
    expect(idp.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(meta.issuer).toBe(idp.issuer);
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.response_types_supported).toEqual(["code"]);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_basic", "client_secret_post"]));
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(["openid", "email", "profile", "groups"]));
  });

  it("runs the authorization code flow with PKCE: ID token claims, recorded challenge and verifier, iss in the callback", async () => {
    const { url, codeVerifier, state, nonce } = await start();
    const before = { authorization: idp.requests.authorization.length, token: idp.requests.token.length };
    const callback = await idp.authorize(url, "alice", "alice-pass");
    expect(callback.origin + callback.pathname).toBe(redirectUri);
    expect(callback.searchParams.get("iss")).toBe(idp.issuer);
    expect(callback.searchParams.get("state")).toBe(state);
    expect(callback.searchParams.get("code")).toBeTruthy();

    const tokens = await client.authorizationCodeGrant(config, callback, { expectedState: state, expectedNonce: nonce, pkceCodeVerifier: codeVerifier, idTokenExpected: true });
    const claims = tokens.claims();
    expect(claims).toMatchObject({ iss: idp.issuer, aud: "gatehouse", sub: "alice-sub", email: "alice@example.test", email_verified: true, name: "Alice Liddell", preferred_username: "alice", groups: ["admins", "staff"], nonce });

    const authorization = idp.requests.authorization[before.authorization];
    expect(authorization?.get("code_challenge_method")).toBe("S256");
    expect(authorization?.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorization?.get("code_challenge")).toBe(await client.calculatePKCECodeChallenge(codeVerifier));
    expect(idp.requests.token).toHaveLength(before.token + 1);
    expect(idp.requests.token[before.token]?.get("code_verifier")).toBe(codeVerifier);
    expect(idp.requests.token[before.token]?.get("grant_type")).toBe("authorization_code");

    // Userinfo works as well.
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, "alice-sub");
    expect(userinfo).toMatchObject({ sub: "alice-sub", email: "alice@example.test", groups: ["admins", "staff"] });
  });

  it("accepts client_secret_post too and keeps the IdP session for a second sign-in (SSO)", async () => {
    const post = await client.discovery(new URL(idp.issuer), "gatehouse", undefined, client.ClientSecretPost("s3cret-s3cret"), {
      [client.customFetch]: config[client.customFetch],
    });
    const first = await start("openid email");
    await idp.authorize(first.url, "alice", "alice-pass");
    const second = await start("openid email");
    // The password is not asked again: a wrong one is never submitted.
    const callback = await idp.authorize(second.url, "alice", "not-used", { fresh: false });
    const tokens = await client.authorizationCodeGrant(post, callback, { expectedState: second.state, expectedNonce: second.nonce, pkceCodeVerifier: second.codeVerifier });
    expect(tokens.claims()).toMatchObject({ sub: "alice-sub", email: "alice@example.test" });
    expect(tokens.claims()).not.toHaveProperty("groups");
    expect(idp.requests.token.at(-1)?.get("client_secret")).toBe("s3cret-s3cret");
  });

  it("attack: a wrong password re-shows the form with an error and never redirects to the relying party", async () => {
    const { url } = await start();
    await expect(idp.authorize(url, "alice", "wrong")).rejects.toThrow("Wrong login or password");
    await expect(idp.authorize(url, "nobody", "alice-pass")).rejects.toThrow("Wrong login or password");
  });

  it("attack: a plain PKCE challenge is refused by the IdP", async () => {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: "openid", code_challenge: verifier, code_challenge_method: "plain", state: "s" });
    const callback = await idp.authorize(url, "alice", "alice-pass");
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("code")).toBeNull();
    expect(callback.searchParams.get("iss")).toBe(idp.issuer);
  });

  it("attack: an authorization request without PKCE is refused", async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: redirectUri, scope: "openid", state: "s" });
    const callback = await idp.authorize(url, "alice", "alice-pass");
    expect(callback.searchParams.get("error")).toBe("invalid_request");
    expect(callback.searchParams.get("code")).toBeNull();
  });

  it("serves a login page a browser can use", async () => {
    const { url } = await start();
    const jar: string[] = [];
    let res = await fetch(url, { redirect: "manual", dispatcher: agent });
    jar.push(...res.headers.getSetCookie().map((c) => c.split(";")[0] ?? ""));
    const interaction = new URL(res.headers.get("location") ?? "", idp.issuer);
    expect(interaction.pathname).toMatch(/^\/interaction\//);
    res = await fetch(interaction, { headers: { cookie: jar.join("; ") }, dispatcher: agent });
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toContain("<title>Test IdP sign-in</title>");
    expect(page).toMatch(/<label for="login">Login<\/label> <input id="login" name="login"/);
    expect(page).toMatch(/<label for="password">Password<\/label> <input id="password" name="password" type="password"/);
    expect(page).toContain('<button type="submit">Sign in</button>');
    expect(res.headers.get("content-security-policy")).toBeNull();
  });
});
