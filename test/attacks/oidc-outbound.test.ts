import { roundTrip } from "../helpers/oauth/client-round-trip.js";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/core/oauth/identity-provider.js";
import { allowOnly } from "../../src/oauth/allow-only.js";
import { createOidcClient } from "../../src/oauth/oidc-client.js";
import { isAllowedAddress } from "../../src/oauth/outbound-address.js";
import { createOutboundFetch, type OutboundFetch } from "../../src/oauth/outbound-fetch.js";
import { startHostileIdp, type HostileIdp } from "../helpers/oauth/hostile-idp.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";

const REDIRECT_URI = "https://gatehouse.example/api/auth/oauth/test-idp/callback";
const GET = { method: "GET", headers: { accept: "application/json" } };

/** Counts connection attempts undici makes (its diagnostics channel fires before every connect). */
const connects: string[] = [];
const onConnect = (message: unknown): void => {
  const { connectParams } = message as { connectParams: { hostname: string; port: string } };
  connects.push(`${connectParams.hostname}:${connectParams.port}`);
};

async function refusal(p: Promise<unknown>): Promise<ProviderError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "expected a ProviderError").toBeInstanceOf(ProviderError);
  expect((err as ProviderError).reason).toBe("unavailable");
  return err as ProviderError;
}

describe("attack: SSRF and unsafe transport on identity-provider calls (OIDC-07)", () => {
  let idp: HostileIdp;
  let trusted: OutboundFetch;

  beforeAll(async () => {
    idp = await startHostileIdp();
    subscribe("undici:client:beforeConnect", onConnect);
  });
  afterAll(async () => {
    unsubscribe("undici:client:beforeConnect", onConnect);
    await idp?.close();
  });
  beforeEach(() => {
    idp.discoveryMode = "normal";
    idp.metadataOverrides = {};
    idp.mode = "good";
    idp.hits.length = 0;
    connects.length = 0;
    trusted = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true });
  });
  afterEach(() => {
    idp.discoveryMode = "normal";
  });

  const discoveryUrl = () => `${idp.issuer}/.well-known/openid-configuration`;
  const oidcClient = (fetch: OutboundFetch, issuer = idp.issuer, privateNetwork = true) =>
    createOidcClient(providerSettings({ issuer, clientId: idp.clientId, clientSecret: idp.clientSecret, privateNetwork }), { fetch });
  const start = (client: ReturnType<typeof oidcClient>) => {
    const tx = roundTrip(REDIRECT_URI);
    return client.authorizationUrl({ state: tx.state, nonce: tx.nonce, codeChallenge: tx.codeChallenge, redirectUri: REDIRECT_URI });
  };

  it("the trusted fetch reaches the test IdP (the baseline for the refusals below)", async () => {
    const res = await trusted(discoveryUrl(), GET);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(idp.issuer);
  });

  it("attack: redirect chain: discovery answers 302 → unavailable, and the redirect target is never contacted", async () => {
    idp.discoveryMode = "redirect";
    const err = await refusal(start(oidcClient(trusted)));
    expect(err.message).toMatch(/redirect/);
    expect(idp.hits).toEqual(["/.well-known/openid-configuration"]);
    expect((await refusal(trusted(discoveryUrl(), GET))).message).toMatch(/redirect \(302\)/);
    expect(idp.hits.some((h) => h.startsWith("/elsewhere"))).toBe(false);
  });

  it("attack: an untrusted (self-signed) certificate without the provider's CA → unavailable; with the CA it works", async () => {
    const untrusted = createOutboundFetch({ privateNetwork: true });
    expect((await refusal(untrusted(discoveryUrl(), GET))).message).toMatch(/network or TLS/);
    await refusal(start(oidcClient(untrusted)));
    expect(await start(oidcClient(trusted))).toBeInstanceOf(URL);
  });

  it("attack: plain http and credentials in the URL → refused before connecting", async () => {
    await refusal(trusted(discoveryUrl().replace("https:", "http:"), GET));
    await refusal(trusted(discoveryUrl().replace("https://", "https://user:pw@"), GET));
    expect(connects).toEqual([]);
  });

  it.each([true, false])("attack: cloud metadata address as issuer (https://169.254.169.254/, privateNetwork %s) → refused without any connection", async (privateNetwork) => {
    const fetch = createOutboundFetch({ privateNetwork });
    for (const url of [
      "https://169.254.169.254/latest/meta-data/",
      "https://[fe80::1]/",
      "https://[::ffff:169.254.169.254]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://0.0.0.0/",
      "https://[::]/",
      "https://224.0.0.1/",
      "https://[ff02::1]/",
    ]) {
      expect((await refusal(fetch(url, GET))).message, url).toMatch(/address not allowed/);
    }
    const err = await refusal(start(oidcClient(fetch, "https://169.254.169.254/", privateNetwork)));
    expect(err.message).toMatch(/address not allowed/);
    expect(connects).toEqual([]);
  });

  it("attack: loopback and private addresses with privateNetwork false (127.0.0.1, [::1], [::ffff:127.0.0.1], 10/8, 192.168/16) → refused without any connection", async () => {
    const fetch = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: false });
    const port = new URL(idp.issuer).port;
    for (const host of ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.1", "192.168.1.1", "172.16.0.1", "100.64.0.1", "[fd00::1]"]) {
      expect((await refusal(fetch(`https://${host}:${port}/.well-known/openid-configuration`, GET))).message, host).toMatch(/address not allowed/);
    }
    await refusal(start(oidcClient(fetch, idp.issuer, false)));
    expect(idp.hits).toEqual([]);
    expect(connects).toEqual([]);
  });

  it.each([true, false])("attack: numeric IPv4 spellings (https://2130706433/, https://0x7f000001/, octal, short) are refused outright (privateNetwork %s)", async (privateNetwork) => {
    const fetch = createOutboundFetch({ privateNetwork });
    const port = new URL(idp.issuer).port;
    for (const host of ["2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.0.0.1", "0177.0.0.1"]) {
      expect((await refusal(fetch(`https://${host}:${port}/.well-known/openid-configuration`, GET))).message, host).toMatch(/numeric IPv4 host spelling/);
    }
    expect((await refusal(start(oidcClient(fetch, "https://2130706433/", privateNetwork)))).message).toMatch(/numeric IPv4 host spelling/);
    expect((await refusal(start(oidcClient(fetch, "https://0x7f000001/", privateNetwork)))).message).toMatch(/numeric IPv4 host spelling/);
    expect(idp.hits).toEqual([]);
    expect(connects).toEqual([]);
  });

  it("attack: DNS to loopback: a host name resolving to 127.0.0.1 (localhost) with privateNetwork false → refused by the lookup, no request reaches the IdP", async () => {
    const fetch = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: false });
    const port = new URL(idp.issuer).port;
    const err = await refusal(fetch(`https://localhost:${port}/.well-known/openid-configuration`, GET));
    expect(err.message).toMatch(/resolves to an address that is not allowed/);
    expect(idp.hits).toEqual([]);
    // With privateNetwork the same name is allowed (an IdP on the LAN): the refusal above was the address policy.
    const lan = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true });
    expect((await lan(`https://localhost:${port}/.well-known/openid-configuration`, GET)).status).toBe(200);
  });

  it("attack: calls outside the configured endpoints: a full sign-in only fetches discovery, JWKS, token and user info", async () => {
    const seen: string[] = [];
    const recording: OutboundFetch = (url, init) => {
      seen.push(new URL(url).pathname);
      return trusted(url, init);
    };
    idp.idTokenClaims = { email: undefined };
    const client = oidcClient(recording);
    const tx = roundTrip(REDIRECT_URI);
    const callback = await idp.authorize(await client.authorizationUrl({ ...tx }));
    await client.exchange(callback, tx);
    expect([...new Set(seen)].sort()).toEqual(["/.well-known/openid-configuration", "/jwks", "/token", "/userinfo"]);
    idp.idTokenClaims = { email: "alice@example.com", email_verified: true, preferred_username: "alice", name: "Alice A." };
  });

  it("attack: a URL that is not one of the provider's endpoints is refused by the allow-list before the fetch runs", async () => {
    const calls: string[] = [];
    const inner: OutboundFetch = async (url) => {
      calls.push(url);
      return new Response("{}");
    };
    const allowed = new Set([`${idp.issuer}/jwks`]);
    const fetch = allowOnly(inner, () => allowed);
    for (const url of [`${idp.issuer}/attacker/jwks`, `${idp.issuer}/jwks?x=1`, `${idp.issuer}/jwks/../admin`, "https://169.254.169.254/jwks"]) {
      expect((await refusal(fetch(url, GET))).message, url).toMatch(/not one of the provider's configured endpoints/);
    }
    await fetch(`${idp.issuer}/jwks`, GET);
    expect(calls).toEqual([`${idp.issuer}/jwks`]);
  });

  it.each([
    ["jwks_uri", "https://169.254.169.254/latest/meta-data/iam", /address not allowed/],
    ["jwks_uri", "https://[::ffff:169.254.169.254]/jwks", /address not allowed/],
    ["userinfo_endpoint", "https://2130706433/userinfo", /numeric IPv4 host spelling/],
    ["token_endpoint", "http://127.0.0.1/token", /only https/],
  ])("attack: discovery metadata pointing %s at %s → discovery fails unavailable, nothing is sent there", async (field, url, message) => {
    idp.metadataOverrides = { [field]: url };
    idp.tokenBodies.length = 0;
    expect((await refusal(start(oidcClient(trusted)))).message).toMatch(message);
    expect(connects.every((c) => c === `127.0.0.1:${new URL(idp.issuer).port}`)).toBe(true);
    expect(idp.hits).toEqual(["/.well-known/openid-configuration"]);
  });

  it("attack: a slow endpoint (slowloris) → times out", async () => {
    idp.discoveryMode = "slow";
    const fetch = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true, timeoutMs: 300 });
    const began = Date.now();
    expect((await refusal(fetch(discoveryUrl(), GET))).message).toMatch(/timed out/);
    expect(Date.now() - began).toBeLessThan(1500);
    await refusal(start(oidcClient(fetch)));
  });

  it("attack: an oversized body (chunked, no length) → refused once the cap is passed", async () => {
    idp.discoveryMode = "oversized";
    expect((await refusal(trusted(discoveryUrl(), GET))).message).toMatch(/too large/);
    await refusal(start(oidcClient(trusted)));
  });

  it("attack: an oversized body announced by content-length → refused", async () => {
    const small = createOutboundFetch({ caPem: idp.certificate.cert, privateNetwork: true, maxBytes: 100 });
    expect((await refusal(small(discoveryUrl(), GET))).message).toMatch(/too large/);
  });

  it("address policy: always-refused, private-only and allowed addresses", () => {
    for (const a of ["169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "255.255.255.255", "not-an-ip"]) {
      expect(isAllowedAddress(a, true), a).toBe(false);
      expect(isAllowedAddress(a, false), a).toBe(false);
    }
    for (const a of ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.1", "100.64.0.1", "fc00::1", "fd12::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1"]) {
      expect(isAllowedAddress(a, true), a).toBe(true);
      expect(isAllowedAddress(a, false), a).toBe(false);
    }
    for (const a of ["8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]) {
      expect(isAllowedAddress(a, false), a).toBe(true);
    }
  });
});
