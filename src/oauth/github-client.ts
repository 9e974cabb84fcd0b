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

const DEFAULT_SCOPES = ["read:user", "user:email"];
const API_HEADERS = { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28", "user-agent": "Gatehouse" };

interface GithubEmail {
  email?: unknown;
  primary?: unknown;
  verified?: unknown;
}

/** Reads a JSON body; anything else is the provider misbehaving. */
async function json(res: Response, what: string): Promise<unknown> {
  try {
    return await res.json();
  } catch {
    throw new ProviderError("unavailable", `${what} did not answer JSON`);
  }
}

/** The verified primary address, if there is one. */
function verifiedPrimary(emails: unknown): string | null {
  if (!Array.isArray(emails)) return null;
  const primary = (emails as GithubEmail[]).find((e) => e && e.primary === true);
  return primary && primary.verified === true && typeof primary.email === "string" && primary.email !== "" ? primary.email : null;
}

/**
 * Creates the protocol client of GitHub (or GitHub Enterprise) sign-in: OAuth 2
 * with PKCE (S256), not OpenID Connect. The profile is keyed on GitHub's numeric
 * user id (never the login, which can be renamed); the email is the primary
 * address only when GitHub says it is verified. Only the token endpoint,
 * `${apiUrl}/user` and `${apiUrl}/user/emails` are fetched; the access token
 * never leaves the exchange.
 */
export function createGithubClient(settings: ProviderSettings, deps: { fetch: OutboundFetch }): ProviderClient {
  if (!settings.github) throw new Error(`provider ${settings.id}: GitHub endpoints are not configured`);
  const { authorizationEndpoint, tokenEndpoint } = settings.github;
  const apiUrl = settings.github.apiUrl.replace(/\/+$/, "");
  const userUrl = `${apiUrl}/user`;
  const emailsUrl = `${apiUrl}/user/emails`;
  const allowed = new Set([tokenEndpoint, userUrl, emailsUrl].map(normalisedHref).filter((u): u is string => u !== null));
  const fetch = allowOnly(deps.fetch, () => allowed);

  async function accessToken(code: string, checks: CallbackChecks): Promise<string> {
    const body = new URLSearchParams({
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      code,
      redirect_uri: checks.redirectUri,
      code_verifier: checks.codeVerifier,
    });
    const res = await fetch(tokenEndpoint, {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded", "user-agent": "Gatehouse" },
      body,
    });
    if (!res.ok) throw new ProviderError(res.status >= 500 ? "unavailable" : "invalid_response", `the token endpoint answered ${res.status}`);
    const answer = (await json(res, "the token endpoint")) as { access_token?: unknown; error?: unknown } | null;
    // GitHub answers a refused code with 200 and an `error` field.
    if (!answer || answer.error !== undefined || typeof answer.access_token !== "string" || answer.access_token === "") {
      throw new ProviderError("invalid_response", "the token endpoint refused the code");
    }
    return answer.access_token;
  }

  return {
    async authorizationUrl(request: AuthorizationRequest): Promise<URL> {
      const url = new URL(authorizationEndpoint);
      const scopes = settings.scopes.length > 0 ? settings.scopes : DEFAULT_SCOPES;
      url.search = new URLSearchParams({
        client_id: settings.clientId,
        redirect_uri: request.redirectUri,
        scope: scopes.join(" "),
        state: request.state,
        code_challenge: request.codeChallenge,
        code_challenge_method: "S256",
        allow_signup: "false",
        ...(request.prompt === "login" ? { prompt: "select_account" } : {}),
      }).toString();
      return url;
    },

    async exchange(callbackUrl: URL, checks: CallbackChecks): Promise<ExternalProfile> {
      const code = checkCallback(callbackUrl, { state: checks.state, issuer: settings.issuer, issRequired: false });
      const token = await accessToken(code, checks);
      const headers = { ...API_HEADERS, authorization: `Bearer ${token}` };
      const userRes = await fetch(userUrl, { method: "GET", headers });
      if (!userRes.ok) throw new ProviderError("unavailable", `the user endpoint answered ${userRes.status}`);
      const user = (await json(userRes, "the user endpoint")) as { id?: unknown; login?: unknown; name?: unknown } | null;
      if (!user || typeof user.id !== "number" || !Number.isSafeInteger(user.id) || user.id <= 0) {
        throw new ProviderError("invalid_response", "the user endpoint gave no numeric id");
      }
      const emailsRes = await fetch(emailsUrl, { method: "GET", headers });
      // 403/404: the token may not read addresses (a GitHub App without the permission): no email, not a failure.
      let email: string | null = null;
      if (emailsRes.ok) email = verifiedPrimary(await json(emailsRes, "the emails endpoint"));
      else if (emailsRes.status !== 403 && emailsRes.status !== 404) throw new ProviderError("unavailable", `the emails endpoint answered ${emailsRes.status}`);
      return {
        issuer: settings.issuer,
        subject: String(user.id),
        email,
        emailVerified: email !== null,
        preferredUsername: typeof user.login === "string" && user.login !== "" ? user.login : null,
        name: typeof user.name === "string" && user.name !== "" ? user.name : null,
        roleClaimValues: [],
      };
    },
  };
}
