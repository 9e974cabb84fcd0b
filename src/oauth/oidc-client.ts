import * as oidc from "openid-client";
import {
  ProviderError,
  type AuthorizationRequest,
  type CallbackChecks,
  type ExternalProfile,
  type ProviderClient,
  type ProviderSettings,
} from "../core/oauth/identity-provider.js";
import { allowOnly, normalisedHref } from "./allow-only.js";
import { checkCallback } from "./check-callback.js";
import type { OutboundFetch } from "./outbound-fetch.js";
import { checkOutboundUrl } from "./outbound-url.js";
import { profileFromClaims } from "./profile-from-claims.js";

/** Seconds of clock difference tolerated on the ID token's `exp`, `nbf` and `iat`. */
const CLOCK_TOLERANCE_S = 60;
/** openid-client's own per-request deadline (seconds); the outbound fetch has a shorter one. */
const REQUEST_TIMEOUT_S = 10;

/** The discovery document's URL for an issuer (OpenID Connect Discovery: path + `/.well-known/openid-configuration`). */
function discoveryUrl(issuer: string): string {
  const url = new URL(issuer);
  url.pathname = `${url.pathname.replace(/\/$/, "")}/.well-known/openid-configuration`;
  return url.href;
}

/** client_secret_basic unless the provider lists only client_secret_post (decided per request, from the metadata). */
function clientAuth(secret: string): oidc.ClientAuth {
  const basic = oidc.ClientSecretBasic(secret);
  const post = oidc.ClientSecretPost(secret);
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const usePost = Array.isArray(methods) && !methods.includes("client_secret_basic") && methods.includes("client_secret_post");
    (usePost ? post : basic)(as, client, body, headers);
  };
}

/** Errors of openid-client that mean the provider is unreachable or misbehaving (not a failed check). */
const UNAVAILABLE_CODES = new Set([
  "OAUTH_TIMEOUT",
  "OAUTH_ABORT",
  "OAUTH_RESPONSE_IS_NOT_CONFORM",
  "OAUTH_RESPONSE_IS_NOT_JSON",
  "OAUTH_HTTP_REQUEST_FORBIDDEN",
  "OAUTH_REQUEST_PROTOCOL_FORBIDDEN",
]);

function providerErrorIn(err: unknown): ProviderError | null {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof ProviderError) return e;
  }
  return null;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown";
}

/**
 * Maps an openid-client failure of the code exchange to a {@link ProviderError}.
 * The callback was already checked, so what is left is: our outbound policy or
 * the network (`unavailable`), the token endpoint refusing the code
 * (`invalid_response`), or the token response / ID token failing a check
 * (`invalid_id_token`). openid-client's error (whose cause may hold the token
 * response) is never attached; only its code is named.
 */
function exchangeFailure(err: unknown): ProviderError {
  const own = providerErrorIn(err);
  if (own) return own;
  if (err instanceof oidc.AuthorizationResponseError) {
    return new ProviderError(err.error === "access_denied" ? "cancelled" : "provider_error", "the provider answered with an error");
  }
  if (err instanceof oidc.ResponseBodyError) return new ProviderError("invalid_response", `the token endpoint refused the code (${err.status})`);
  const code = codeOf(err);
  if (UNAVAILABLE_CODES.has(code)) return new ProviderError("unavailable", `the token endpoint misbehaved (${code})`);
  return new ProviderError("invalid_id_token", `the token response or ID token failed a check (${code})`);
}

/**
 * Creates the protocol client of an OpenID Connect provider (`oidc`, `google`)
 * with openid-client. Discovery is lazy and cached (a failure is retried on the
 * next call); its `issuer` must equal `settings.issuer` exactly. Afterwards the
 * provider's fetch reaches only the discovery URL and the metadata's
 * `jwks_uri`, `token_endpoint` and `userinfo_endpoint`. The code exchange sends
 * the PKCE verifier and `settings`' client secret (basic, or post when that is
 * all the provider lists) and checks state, `iss` (RFC 9207), the ID token's
 * signature (`enableNonRepudiationChecks`: asymmetric algorithms from the JWKS
 * only), issuer, audience, times (60 s tolerance) and nonce. Tokens never leave it.
 */
export function createOidcClient(settings: ProviderSettings, deps: { fetch: OutboundFetch }): ProviderClient {
  const discoveryHref = discoveryUrl(settings.issuer);
  let allowed: ReadonlySet<string> = new Set([discoveryHref]);
  const providerFetch = allowOnly(deps.fetch, () => allowed);
  let pending: Promise<oidc.Configuration> | null = null;

  async function discover(): Promise<oidc.Configuration> {
    checkOutboundUrl(settings.issuer, settings.privateNetwork);
    let config: oidc.Configuration;
    try {
      config = await oidc.discovery(
        new URL(settings.issuer),
        settings.clientId,
        { client_secret: settings.clientSecret, [oidc.clockTolerance]: CLOCK_TOLERANCE_S },
        clientAuth(settings.clientSecret),
        { [oidc.customFetch]: providerFetch, timeout: REQUEST_TIMEOUT_S, execute: [oidc.enableNonRepudiationChecks] },
      );
    } catch (err) {
      // openid-client compares the document's issuer with the expected one itself (this code, in discovery, is only that).
      if (codeOf(err) === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") throw new ProviderError("unavailable", "discovery answered another issuer");
      throw providerErrorIn(err) ?? new ProviderError("unavailable", `discovery failed (${codeOf(err)})`);
    }
    const meta = config.serverMetadata();
    if (meta.issuer !== settings.issuer) throw new ProviderError("unavailable", "discovery answered another issuer");
    if (typeof meta.authorization_endpoint !== "string" || !meta.authorization_endpoint.startsWith("https://")) {
      throw new ProviderError("unavailable", "discovery gave no https authorization endpoint");
    }
    if (typeof meta.token_endpoint !== "string" || typeof meta.jwks_uri !== "string") {
      throw new ProviderError("unavailable", "discovery gave no token endpoint or JWKS URL");
    }
    const endpoints = [meta.jwks_uri, meta.token_endpoint, meta.userinfo_endpoint].filter((u): u is string => typeof u === "string");
    // The same policy as every call, now: an endpoint on plain http or a refused address fails discovery, not a sign-in halfway.
    for (const endpoint of endpoints) checkOutboundUrl(endpoint, settings.privateNetwork);
    allowed = new Set([discoveryHref, ...endpoints.map(normalisedHref).filter((u): u is string => u !== null)]);
    return config;
  }

  function configuration(): Promise<oidc.Configuration> {
    if (!pending) {
      pending = discover();
      pending.catch(() => {
        pending = null;
      });
    }
    return pending;
  }

  return {
    async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
      const config = await configuration();
      const scopes = settings.scopes.includes("openid") ? settings.scopes : ["openid", ...settings.scopes];
      const params: Record<string, string> = {
        response_type: "code",
        redirect_uri: new URL(request.redirectUri).href,
        scope: scopes.join(" "),
        state: request.state,
        nonce: request.nonce,
        code_challenge: request.codeChallenge,
        code_challenge_method: "S256",
      };
      if (request.prompt === "login") Object.assign(params, { prompt: "login", max_age: "0" });
      return oidc.buildAuthorizationUrl(config, params);
    },

    async exchange(callbackUrl: URL, checks: CallbackChecks): Promise<ExternalProfile> {
      const config = await configuration();
      const meta = config.serverMetadata();
      checkCallback(callbackUrl, { state: checks.state, issuer: settings.issuer, issRequired: meta.authorization_response_iss_parameter_supported === true });
      // The redirect_uri sent is the transaction's, not whatever URL the request was reconstructed as.
      const current = new URL(checks.redirectUri);
      current.search = callbackUrl.search;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, {
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          pkceCodeVerifier: checks.codeVerifier,
          idTokenExpected: true,
          ...(checks.maxAge !== undefined ? { maxAge: checks.maxAge } : {}),
        });
      } catch (err) {
        throw exchangeFailure(err);
      }
      const claims = tokens.claims();
      if (!claims) throw new ProviderError("invalid_id_token", "the token response carries no ID token");
      let userInfo: Record<string, unknown> | null = null;
      if (typeof claims.email !== "string" && typeof meta.userinfo_endpoint === "string") {
        try {
          userInfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        } catch (err) {
          const own = providerErrorIn(err);
          if (own) throw own;
          const code = codeOf(err);
          // A user info answer for another subject, or not JSON: a failed check, unless the endpoint is just down.
          throw new ProviderError(UNAVAILABLE_CODES.has(code) || err instanceof oidc.ResponseBodyError ? "unavailable" : "invalid_response", `user info failed (${code})`);
        }
      }
      return profileFromClaims(settings, claims, userInfo);
    },
  };
}
