import { roundTrip, providerFailure } from "../helpers/oauth/client-round-trip.js";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError, type ProviderClient } from "../../src/core/oauth/identity-provider.js";
import { createOidcClient } from "../../src/oauth/oidc-client.js";
import { createOutboundFetch } from "../../src/oauth/outbound-fetch.js";
import { startHostileIdp, type HostileIdp, type IdTokenMode } from "../helpers/oauth/hostile-idp.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";

const REDIRECT_URI = "https://gatehouse.example/api/auth/oauth/test-idp/callback";

describe("attack: forged or misdirected ID tokens and callbacks (OpenID Connect client)", () => {
  let idp: HostileIdp;
  let client: ProviderClient;

  beforeAll(async () => {
    idp = await startHostileIdp();
  });
  afterAll(async () => idp?.close());

  beforeEach(() => {
    idp.mode = "good";
    idp.discoveryMode = "normal";
    idp.metadataOverrides = {};
    idp.idTokenClaims = { email: "alice@example.com", email_verified: true, preferred_username: "alice", name: "Alice A." };
    idp.userInfo = {};
    client = createOidcClient(providerSettings({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, caFile: idp.certificate.certFile }), {
      fetch: createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true }),
    });
  });

  /** The whole round trip: authorization URL, the IdP's redirect back, the exchange. */
  async function signIn(tx = roundTrip(REDIRECT_URI), edit: (callback: URL) => void = () => undefined) {
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: tx.redirectUri });
    const callback = await idp.authorize(url);
    edit(callback);
    return client.exchange(callback, tx);
  }

  it("a good ID token gives the checked profile", async () => {
    const profile = await signIn();
    expect(profile).toEqual({
      issuer: idp.issuer,
      subject: "user-42",
      email: "alice@example.com",
      emailVerified: true,
      preferredUsername: "alice",
      name: "Alice A.",
      roleClaimValues: [],
    });
  });

  const forged: Array<[IdTokenMode, string]> = [
    ["alg_none", "an unsigned token (alg none, advertised by the IdP)"],
    ["hs256_with_rsa_public_key", "HS256 signed with the RSA public key as the HMAC secret (algorithm confusion)"],
    ["foreign_kid_jku", "signed with an attacker key, unknown kid, jku/x5u/embedded jwk pointing at the attacker"],
    ["wrong_iss", "another issuer"],
    ["wrong_aud", "a token for another client (foreign aud)"],
    ["expired", "an expired token (an hour past exp, beyond the 60 s tolerance)"],
    ["nbf_future", "a token not valid before an hour from now"],
    ["wrong_nonce", "a token with another transaction's nonce (replay)"],
    ["missing_nonce", "a token without the nonce"],
  ];
  it.each(forged)("attack: ID token %s (%s) → invalid_id_token", async (mode) => {
    idp.mode = mode;
    expect(await providerFailure(signIn())).toBe("invalid_id_token");
  });

  it("attack: the ID token's jku/x5u point at an attacker URL → it is never fetched", async () => {
    idp.mode = "foreign_kid_jku";
    idp.hits.length = 0;
    expect(await providerFailure(signIn())).toBe("invalid_id_token");
    expect(idp.hits.filter((h) => h.startsWith("/attacker"))).toEqual([]);
  });

  it("attack: intercepted code without the verifier (OIDC-01): S256 challenge of 43 chars, and the token request's verifier hashes to it", async () => {
    idp.authorizations.length = 0;
    idp.tokenBodies.length = 0;
    const tx = roundTrip(REDIRECT_URI);
    await signIn(tx);
    const auth = idp.authorizations.at(-1)!;
    expect(auth.get("code_challenge_method")).toBe("S256");
    expect(auth.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.get("response_type")).toBe("code");
    expect(auth.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(auth.get("nonce")).toBe(tx.nonce);
    const verifier = idp.tokenBodies.at(-1)!.get("code_verifier")!;
    expect(createHash("sha256").update(verifier).digest("base64url")).toBe(auth.get("code_challenge"));
    expect(idp.tokenBodies.at(-1)!.get("redirect_uri")).toBe(REDIRECT_URI);

    // The same code with another verifier is refused by the IdP; the client reports invalid_response.
    const other = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: other.state, nonce: other.nonce, codeChallenge: other.codeChallenge, redirectUri: REDIRECT_URI });
    const callback = await idp.authorize(url);
    expect(await providerFailure(client.exchange(callback, { ...other, codeVerifier: randomBytes(32).toString("base64url") }))).toBe("invalid_response");
  });

  it("prompt login asks the IdP to re-authenticate (prompt=login, max_age=0)", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI, prompt: "login" });
    expect(url.searchParams.get("prompt")).toBe("login");
    expect(url.searchParams.get("max_age")).toBe("0");
  });

  it("attack: mix-up (OIDC-04): a callback whose iss names another issuer → invalid_response, no token request", async () => {
    idp.tokenBodies.length = 0;
    const reason = await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.set("iss", "https://other-idp.example")));
    expect(reason).toBe("invalid_response");
    expect(idp.tokenBodies).toEqual([]);
  });

  it("attack: mix-up: a callback without iss while the IdP promises one → invalid_response", async () => {
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.delete("iss")))).toBe("invalid_response");
  });

  it("attack: mix-up: a differing iss fails even when the IdP does not advertise iss support", async () => {
    idp.metadataOverrides = { authorization_response_iss_parameter_supported: false };
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.set("iss", "https://other-idp.example")))).toBe("invalid_response");
  });

  it("attack: login CSRF: a callback with another state → invalid_response, no token request", async () => {
    idp.tokenBodies.length = 0;
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.set("state", "attacker-state")))).toBe("invalid_response");
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.delete("state")))).toBe("invalid_response");
    expect(idp.tokenBodies).toEqual([]);
  });

  it("attack: a forged cancellation (error=access_denied with another state) → invalid_response, not cancelled", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const forgedCallback = new URL(`${REDIRECT_URI}?error=access_denied&state=attacker&iss=${encodeURIComponent(idp.issuer)}`);
    expect(await providerFailure(client.exchange(forgedCallback, tx))).toBe("invalid_response");
  });

  it("provider errors: access_denied → cancelled, other errors → provider_error", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const iss = encodeURIComponent(idp.issuer);
    expect(await providerFailure(client.exchange(new URL(`${REDIRECT_URI}?error=access_denied&state=${tx.state}&iss=${iss}`), tx))).toBe("cancelled");
    expect(await providerFailure(client.exchange(new URL(`${REDIRECT_URI}?error=server_error&state=${tx.state}&iss=${iss}`), tx))).toBe("provider_error");
  });

  it("attack: a replayed code (used once already) → invalid_response", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI });
    const callback = await idp.authorize(url);
    await client.exchange(callback, tx);
    expect(await providerFailure(client.exchange(callback, tx))).toBe("invalid_response");
  });

  it("attack: discovery answers another issuer (OIDC-03) → unavailable, and a later good discovery is retried", async () => {
    idp.discoveryMode = "issuer_mismatch";
    const tx = roundTrip(REDIRECT_URI);
    expect(await providerFailure(client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI }))).toBe("unavailable");
    idp.discoveryMode = "normal";
    await expect(signIn()).resolves.toMatchObject({ subject: "user-42" });
  });

  it("attack: discovery issuer equal only after URL normalisation (a trailing slash) → unavailable", async () => {
    idp.metadataOverrides = { issuer: `${idp.issuer}/` };
    const tx = roundTrip(REDIRECT_URI);
    expect(await providerFailure(client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI }))).toBe("unavailable");
  });

  it("attack: unverified email claims: email_verified absent or the string \"true\" → emailVerified false", async () => {
    idp.idTokenClaims = { email: "alice@example.com", email_verified: undefined };
    expect(await signIn()).toMatchObject({ email: "alice@example.com", emailVerified: false, preferredUsername: "alice" });
    idp.idTokenClaims = { email: "alice@example.com", email_verified: "true" };
    expect(await signIn()).toMatchObject({ email: "alice@example.com", emailVerified: false });
  });

  it("client authentication: basic by default, post when the IdP lists only client_secret_post; no preferred_username → the email's local part", async () => {
    idp.tokenBodies.length = 0;
    idp.idTokenClaims = { email: "carol@example.com", email_verified: true };
    expect(await signIn()).toMatchObject({ preferredUsername: "carol", name: null });
    expect(idp.tokenBodies.at(-1)!.get("client_secret")).toBeNull();
    idp.metadataOverrides = { token_endpoint_auth_methods_supported: ["client_secret_post"] };
    client = createOidcClient(providerSettings({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret }), {
      fetch: createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true }),
    });
    await signIn();
    expect(idp.tokenBodies.at(-1)!.get("client_secret")).toBe(idp.clientSecret);
  });

  it("email missing from the ID token is read from user info (subject checked); role claim values are taken", async () => {
    client = createOidcClient(
      providerSettings({ issuer: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, roles: { claim: "groups", map: { ops: "admin" } } }),
      { fetch: createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true }) },
    );
    idp.idTokenClaims = { email: undefined, groups: ["ops", "dev", 7] };
    idp.userInfo = { email: "bob@example.com", email_verified: true, preferred_username: "bob" };
    expect(await signIn()).toEqual({
      issuer: idp.issuer,
      subject: "user-42",
      email: "bob@example.com",
      emailVerified: true,
      preferredUsername: "bob",
      name: null,
      roleClaimValues: ["ops", "dev"],
    });
    idp.idTokenClaims = { email: "c@example.com", email_verified: true, groups: "ops, dev admins" };
    expect((await signIn()).roleClaimValues).toEqual(["ops", "dev", "admins"]);
  });

  it("attack: user info for another subject (a victim's verified email) → invalid_response", async () => {
    idp.idTokenClaims = { email: undefined };
    idp.userInfo = { sub: "someone-else", email: "victim@example.com", email_verified: true };
    expect(await providerFailure(signIn())).toBe("invalid_response");
  });

  it("errors name no token, code, secret or body", async () => {
    idp.mode = "wrong_aud";
    idp.tokenBodies.length = 0;
    const err = (await signIn().catch((e: unknown) => e)) as ProviderError;
    const code = idp.tokenBodies.at(-1)!.get("code")!;
    const seen = JSON.stringify({ message: err.message, stack: err.stack, cause: String(err.cause) });
    for (const secret of [code, idp.clientSecret, "someone-else"]) expect(seen).not.toContain(secret);
    expect(err.cause).toBeUndefined();
  });
});
