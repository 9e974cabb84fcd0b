import { roundTrip, providerFailure } from "../helpers/oauth/client-round-trip.js";
import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError, type ProviderClient } from "../../src/core/oauth/identity-provider.js";
import { createGithubClient } from "../../src/oauth/github-client.js";
import { createOutboundFetch, type OutboundFetch } from "../../src/oauth/outbound-fetch.js";
import { startGithubDouble, type GithubDouble } from "../helpers/oauth/github-double.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";

const REDIRECT_URI = "https://gatehouse.example/api/auth/oauth/github/callback";

describe("GitHub client against a GitHub double", () => {
  let gh: GithubDouble;
  let client: ProviderClient;
  let fetched: string[];

  beforeAll(async () => {
    gh = await startGithubDouble();
  });
  afterAll(async () => gh?.close());

  beforeEach(() => {
    gh.user = { id: 583231, login: "octocat", name: "The Octocat" };
    gh.emails = [
      { email: "old@github.example", primary: false, verified: true, visibility: null },
      { email: "octocat@github.example", primary: true, verified: true, visibility: "public" },
    ];
    gh.emailsStatus = 200;
    fetched = [];
    const outbound = createOutboundFetch({ caPem: gh.certificate.cert, privateNetwork: true });
    const recording: OutboundFetch = (url, init) => {
      fetched.push(url);
      return outbound(url, init);
    };
    client = createGithubClient(
      providerSettings({ id: "github", type: "github", name: "GitHub", issuer: "https://github.com", clientId: gh.clientId, clientSecret: gh.clientSecret, scopes: [], github: gh.endpoints }),
      { fetch: recording },
    );
  });

  async function signIn(tx = roundTrip(REDIRECT_URI), edit: (callback: URL) => void = () => undefined) {
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: tx.redirectUri });
    const callback = await gh.authorize(url);
    edit(callback);
    return client.exchange(callback, tx);
  }

  it("a full round trip gives the numeric id as subject and the verified primary email; only the three configured URLs are fetched", async () => {
    const profile = await signIn();
    expect(profile).toEqual({
      issuer: "https://github.com",
      subject: "583231",
      email: "octocat@github.example",
      emailVerified: true,
      preferredUsername: "octocat",
      name: "The Octocat",
      roleClaimValues: [],
    });
    expect(fetched).toEqual([gh.endpoints.tokenEndpoint, `${gh.endpoints.apiUrl}/user`, `${gh.endpoints.apiUrl}/user/emails`]);
    const last = gh.tokenRequests.at(-1)!;
    expect(last.refused).toBeNull();
    expect(last.accept).toBe("application/json");
  });

  it("the authorization URL: client id, redirect URI, default scopes, state, S256 challenge, no sign-up", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI });
    expect(url.origin + url.pathname).toBe(gh.endpoints.authorizationEndpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: gh.clientId,
      redirect_uri: REDIRECT_URI,
      scope: "read:user user:email",
      state: tx.state,
      code_challenge: tx.codeChallenge,
      code_challenge_method: "S256",
      allow_signup: "false",
    });
  });

  it("attack: a renamed account keeps its identity: the subject is the numeric id, not the login", async () => {
    gh.user = { id: 583231, login: "someone-else-now", name: null };
    expect(await signIn()).toMatchObject({ subject: "583231", preferredUsername: "someone-else-now", name: null });
  });

  it("attack: an unverified primary email is not trusted → email null, emailVerified false (even with a verified secondary)", async () => {
    gh.emails = [
      { email: "victim@example.com", primary: true, verified: false, visibility: "public" },
      { email: "other@github.example", primary: false, verified: true, visibility: null },
    ];
    expect(await signIn()).toMatchObject({ email: null, emailVerified: false });
  });

  it("emails not readable (403) → no email, sign-in still works", async () => {
    gh.emailsStatus = 403;
    expect(await signIn()).toMatchObject({ subject: "583231", email: null, emailVerified: false });
  });

  it("error=access_denied → cancelled; another error → provider_error", async () => {
    const tx = roundTrip(REDIRECT_URI);
    expect(await providerFailure(client.exchange(new URL(`${REDIRECT_URI}?error=access_denied&state=${tx.state}`), tx))).toBe("cancelled");
    expect(await providerFailure(client.exchange(new URL(`${REDIRECT_URI}?error=application_suspended&state=${tx.state}`), tx))).toBe("provider_error");
    expect(fetched).toEqual([]);
  });

  it("attack: a forged code → invalid_response (GitHub's 200 with an error body is a failure)", async () => {
    const tx = roundTrip(REDIRECT_URI);
    expect(await providerFailure(signIn(tx, (cb) => cb.searchParams.set("code", "forged-code")))).toBe("invalid_response");
    expect(gh.tokenRequests.at(-1)!.refused).toBe("bad_verification_code");
    expect(fetched).toEqual([gh.endpoints.tokenEndpoint]);
  });

  it("attack: a replayed code (single use) → invalid_response", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI });
    const callback = await gh.authorize(url);
    await client.exchange(callback, tx);
    expect(await providerFailure(client.exchange(callback, tx))).toBe("invalid_response");
  });

  it("attack: login CSRF: a callback with another state → invalid_response, the code is never sent", async () => {
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.set("state", "attacker-state")))).toBe("invalid_response");
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.delete("state")))).toBe("invalid_response");
    expect(fetched).toEqual([]);
  });

  it("attack: intercepted code with another PKCE verifier → refused by the double (bad_verification_code) → invalid_response", async () => {
    const tx = roundTrip(REDIRECT_URI);
    const url = await client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI });
    const callback = await gh.authorize(url);
    expect(await providerFailure(client.exchange(callback, { ...tx, codeVerifier: randomBytes(32).toString("base64url") }))).toBe("invalid_response");
    expect(gh.tokenRequests.at(-1)!.refused).toBe("bad_verification_code");
    const sent = gh.tokenRequests.at(-1)!.body;
    expect(sent.get("redirect_uri")).toBe(REDIRECT_URI);
    expect(sent.get("client_id")).toBe(gh.clientId);
  });

  it("the verifier sent hashes to the challenge (the double accepts it)", async () => {
    await signIn();
    const auth = gh.authorizations.at(-1)!;
    const verifier = gh.tokenRequests.at(-1)!.body.get("code_verifier")!;
    expect(createHash("sha256").update(verifier).digest("base64url")).toBe(auth.get("code_challenge"));
  });

  it("attack: a callback iss naming another issuer (mix-up) → invalid_response", async () => {
    expect(await providerFailure(signIn(roundTrip(REDIRECT_URI), (cb) => cb.searchParams.set("iss", "https://evil.example")))).toBe("invalid_response");
  });

  it("a wrong client secret → invalid_response; errors carry no secret, code or token", async () => {
    client = createGithubClient(
      providerSettings({ id: "github", type: "github", name: "GitHub", issuer: "https://github.com", clientId: gh.clientId, clientSecret: "wrong-secret", scopes: ["read:user"], github: gh.endpoints }),
      { fetch: createOutboundFetch({ caPem: gh.certificate.cert, privateNetwork: true }) },
    );
    const err = (await signIn().catch((e: unknown) => e)) as ProviderError;
    expect(err.reason).toBe("invalid_response");
    const code = gh.tokenRequests.at(-1)!.body.get("code")!;
    expect(`${err.message} ${String(err.cause)}`).not.toContain("wrong-secret");
    expect(`${err.message} ${String(err.cause)}`).not.toContain(code);
  });

  it("attack: a user answer without a numeric id (a string id) → invalid_response, nothing keyed on it", async () => {
    gh.user = { id: "583231" as unknown as number, login: "octocat", name: null };
    expect(await providerFailure(signIn())).toBe("invalid_response");
  });
});
