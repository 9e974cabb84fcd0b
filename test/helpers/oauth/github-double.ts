import { readBody, sendJson } from "./double-http.js";
import { followRedirect } from "./follow-redirect.js";
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { testCertificate, type TestCertificate } from "./tls-cert.js";

/** A GitHub user as `/user` answers it (the fields Gatehouse reads). */
export interface GithubUser {
  id: number;
  login: string;
  name: string | null;
}

/** One entry of `/user/emails`. */
export interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  visibility: "public" | "private" | null;
}

/** A local HTTPS stand-in for github.com's OAuth endpoints and API (GitHub Enterprise layout: API under /api/v3). */
export interface GithubDouble {
  origin: string;
  certificate: TestCertificate;
  clientId: string;
  clientSecret: string;
  /** settings.github for this double. */
  endpoints: { authorizationEndpoint: string; tokenEndpoint: string; apiUrl: string };
  user: GithubUser;
  emails: GithubEmail[];
  /** Status of `/user/emails` (403: the token may not read addresses). */
  emailsStatus: number;
  /** Queries of the authorization requests. */
  authorizations: URLSearchParams[];
  /** Bodies of the token requests, and why each was refused (null: accepted). */
  tokenRequests: Array<{ body: URLSearchParams; accept: string | undefined; refused: string | null }>;
  /** Every request path, in order. */
  hits: string[];
  /** Follows an authorization URL like a consenting user's browser: the callback URL GitHub redirects to. */
  authorize(url: URL): Promise<URL>;
  close(): Promise<void>;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string | null;
}

/**
 * Starts the GitHub double: `/login/oauth/authorize` (302 back with code and
 * state), `/login/oauth/access_token` (checks client id and secret, the code —
 * single use —, the redirect URI and the PKCE verifier; refuses like GitHub does,
 * with 200 and `{error: "bad_verification_code"}`), `/api/v3/user` and
 * `/api/v3/user/emails` for the bearer token it issued.
 */
export async function startGithubDouble(): Promise<GithubDouble> {
  const certificate = testCertificate("github-double");
  const codes = new Map<string, IssuedCode>();
  const tokens = new Set<string>();

  const double: GithubDouble = {
    origin: "",
    certificate,
    clientId: "Iv1.gatehouse",
    clientSecret: "gh-client-secret-123",
    endpoints: { authorizationEndpoint: "", tokenEndpoint: "", apiUrl: "" },
    user: { id: 583231, login: "octocat", name: "The Octocat" },
    emails: [{ email: "octocat@github.example", primary: true, verified: true, visibility: "public" }],
    emailsStatus: 200,
    authorizations: [],
    tokenRequests: [],
    hits: [],
    authorize: (url) => followRedirect(url, certificate.cert),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  async function accessToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = new URLSearchParams(await readBody(req));
    const issued = codes.get(body.get("code") ?? "");
    codes.delete(body.get("code") ?? "");
    const verifier = body.get("code_verifier");
    const refused =
      body.get("client_id") !== double.clientId || body.get("client_secret") !== double.clientSecret
        ? "incorrect_client_credentials"
        : !issued || issued.clientId !== body.get("client_id")
          ? "bad_verification_code"
          : issued.redirectUri !== body.get("redirect_uri")
            ? "redirect_uri_mismatch"
            : issued.codeChallenge !== null && (verifier === null || createHash("sha256").update(verifier).digest("base64url") !== issued.codeChallenge)
              ? "bad_verification_code"
              : null;
    double.tokenRequests.push({ body, accept: req.headers.accept, refused });
    const answer: Record<string, string> = refused
      ? { error: refused, error_description: "The code passed is incorrect or expired.", error_uri: "https://docs.github.com/apps" }
      : (() => {
          const token = `gho_${randomBytes(18).toString("base64url")}`;
          tokens.add(token);
          return { access_token: token, token_type: "bearer", scope: "read:user,user:email" };
        })();
    // Like GitHub: JSON only when asked for; form encoding otherwise. Errors are 200 too.
    if (req.headers.accept?.includes("application/json")) return sendJson(res, 200, answer);
    res.writeHead(200, { "content-type": "application/x-www-form-urlencoded" });
    res.end(new URLSearchParams(answer).toString());
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", double.origin);
    double.hits.push(url.pathname + url.search);
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const apiOk = bearer !== undefined && tokens.has(bearer) && req.headers["user-agent"] !== undefined;
    switch (`${req.method} ${url.pathname}`) {
      case "GET /login/oauth/authorize": {
        const q = url.searchParams;
        double.authorizations.push(q);
        const code = randomBytes(10).toString("hex");
        codes.set(code, { clientId: q.get("client_id") ?? "", redirectUri: q.get("redirect_uri") ?? "", codeChallenge: q.get("code_challenge") });
        const back = new URL(q.get("redirect_uri") ?? "https://invalid.example/");
        back.searchParams.set("code", code);
        if (q.get("state") !== null) back.searchParams.set("state", q.get("state")!);
        res.writeHead(302, { location: back.href });
        return void res.end();
      }
      case "POST /login/oauth/access_token":
        return accessToken(req, res);
      case "GET /api/v3/user":
        return apiOk ? sendJson(res, 200, { ...double.user, type: "User", site_admin: false }) : sendJson(res, 401, { message: "Bad credentials" });
      case "GET /api/v3/user/emails":
        if (!apiOk) return sendJson(res, 401, { message: "Bad credentials" });
        return double.emailsStatus === 200 ? sendJson(res, 200, double.emails) : sendJson(res, double.emailsStatus, { message: "Resource not accessible by integration" });
      default:
        return sendJson(res, 404, { message: "Not Found" });
    }
  }

  const server: Server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  double.origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.endpoints = {
    authorizationEndpoint: `${double.origin}/login/oauth/authorize`,
    tokenEndpoint: `${double.origin}/login/oauth/access_token`,
    apiUrl: `${double.origin}/api/v3`,
  };
  return double;
}

