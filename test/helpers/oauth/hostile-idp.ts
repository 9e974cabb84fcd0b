import { readBody, sendJson } from "./double-http.js";
import { followRedirect } from "./follow-redirect.js";
import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK } from "jose";
import { testCertificate, type TestCertificate } from "./tls-cert.js";

/** How the token endpoint crafts the ID token. */
export type IdTokenMode =
  | "good"
  | "alg_none"
  | "hs256_with_rsa_public_key"
  | "foreign_kid_jku"
  | "wrong_iss"
  | "wrong_aud"
  | "expired"
  | "nbf_future"
  | "wrong_nonce"
  | "missing_nonce";

/** How the discovery document is served. */
export type DiscoveryMode = "normal" | "redirect" | "issuer_mismatch" | "slow" | "oversized";

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  nonce: string | null;
  codeChallenge: string | null;
}

/** A hand-written HTTPS identity provider whose answers a test can turn hostile. */
export interface HostileIdp {
  /** `https://<host>:<port>` (no trailing slash), also the discovery document's `issuer` in `normal` mode. */
  issuer: string;
  certificate: TestCertificate;
  clientId: string;
  clientSecret: string;
  subject: string;
  mode: IdTokenMode;
  discoveryMode: DiscoveryMode;
  /** Merged into the discovery document (e.g. a `jwks_uri` elsewhere). */
  metadataOverrides: Record<string, unknown>;
  /** Extra ID token claims (email, email_verified, groups…); a key set to undefined is left out. */
  idTokenClaims: Record<string, unknown>;
  /** The user info answer (besides `sub`). */
  userInfo: Record<string, unknown>;
  /** Every request path (with query) the server received, in order. */
  hits: string[];
  /** Queries of the authorization requests. */
  authorizations: URLSearchParams[];
  /** Bodies of the token requests. */
  tokenBodies: URLSearchParams[];
  /** Follows an authorization URL like a browser whose user consents: returns the callback URL (the 302's Location). */
  authorize(url: URL): Promise<URL>;
  close(): Promise<void>;
}

const sha256url = (s: string): string => createHash("sha256").update(s).digest("base64url");

/**
 * Starts a hostile identity provider on `host` (default 127.0.0.1) with a
 * throw-away certificate: discovery, JWKS, authorize (302 straight back with
 * code, state and iss), a token endpoint that checks the client, the code, the
 * redirect URI and the PKCE verifier and answers an ID token crafted per
 * {@link HostileIdp.mode}, and user info.
 */
export async function startHostileIdp(options: { host?: "127.0.0.1" | "localhost" | "[::1]" } = {}): Promise<HostileIdp> {
  const certificate = testCertificate("hostile-idp");
  const good = await generateKeyPair("RS256", { extractable: true });
  const attacker = await generateKeyPair("RS256", { extractable: true });
  const goodJwk: JWK = { ...(await exportJWK(good.publicKey)), kid: "good", alg: "RS256", use: "sig" };
  const attackerJwk: JWK = { ...(await exportJWK(attacker.publicKey)), kid: "attacker", alg: "RS256", use: "sig" };
  const goodPublicPem = await exportSPKI(good.publicKey);
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Set<string>();

  const idp: HostileIdp = {
    issuer: "",
    certificate,
    clientId: "gatehouse-client",
    clientSecret: "s3cret-for-the-idp",
    subject: "user-42",
    mode: "good",
    discoveryMode: "normal",
    metadataOverrides: {},
    idTokenClaims: { email: "alice@example.com", email_verified: true, preferred_username: "alice", name: "Alice A." },
    userInfo: {},
    hits: [],
    authorizations: [],
    tokenBodies: [],
    authorize: (url) => followRedirect(url, certificate.cert),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  function metadata(): Record<string, unknown> {
    const base = idp.issuer;
    return {
      issuer: idp.discoveryMode === "issuer_mismatch" ? "https://evil.example" : base,
      authorization_endpoint: `${base}/authorize`,
      token_endpoint: `${base}/token`,
      jwks_uri: `${base}/jwks`,
      userinfo_endpoint: `${base}/userinfo`,
      response_types_supported: ["code"],
      subject_types_supported: ["public"],
      // Advertising HS256 and none makes the downgrade attacks real: the client must still refuse them.
      id_token_signing_alg_values_supported: ["RS256", "HS256", "none"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic"],
      authorization_response_iss_parameter_supported: true,
      ...idp.metadataOverrides,
    };
  }

  async function idToken(nonce: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { sub: idp.subject, ...idp.idTokenClaims };
    for (const [k, v] of Object.entries(claims)) if (v === undefined) delete claims[k];
    if (nonce !== null && idp.mode !== "missing_nonce") claims.nonce = idp.mode === "wrong_nonce" ? "not-the-transaction-nonce" : nonce;
    const iss = idp.mode === "wrong_iss" ? "https://evil.example" : idp.issuer;
    const aud = idp.mode === "wrong_aud" ? "someone-else" : idp.clientId;
    const iat = idp.mode === "expired" ? now - 7200 : now;
    const exp = idp.mode === "expired" ? now - 3600 : now + 600;
    const jwt = (key: CryptoKey | Uint8Array, header: Record<string, unknown>): Promise<string> => {
      const builder = new SignJWT(claims).setProtectedHeader({ alg: "RS256", ...header }).setIssuer(iss).setAudience(aud).setIssuedAt(iat).setExpirationTime(exp);
      if (idp.mode === "nbf_future") builder.setNotBefore(now + 3600);
      return builder.sign(key);
    };
    switch (idp.mode) {
      case "alg_none":
        return new UnsecuredJWT(claims).setIssuer(iss).setAudience(aud).setIssuedAt(iat).setExpirationTime(exp).encode();
      case "hs256_with_rsa_public_key":
        return jwt(new TextEncoder().encode(goodPublicPem), { alg: "HS256", kid: "good" });
      case "foreign_kid_jku":
        return jwt(attacker.privateKey, {
          kid: "attacker",
          jku: `${idp.issuer}/attacker/jwks`,
          x5u: `${idp.issuer}/attacker/cert.pem`,
          jwk: { kty: attackerJwk.kty, n: attackerJwk.n, e: attackerJwk.e },
        });
      default:
        return jwt(good.privateKey, { kid: "good" });
    }
  }

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = new URLSearchParams(await readBody(req));
    idp.tokenBodies.push(body);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const [id, secret] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":").map(decodeURIComponent) : [body.get("client_id"), body.get("client_secret")];
    if (id !== idp.clientId || secret !== idp.clientSecret) return sendJson(res, 401, { error: "invalid_client" });
    const issued = codes.get(body.get("code") ?? "");
    codes.delete(body.get("code") ?? "");
    const verifier = body.get("code_verifier");
    if (
      body.get("grant_type") !== "authorization_code" ||
      !issued ||
      issued.redirectUri !== body.get("redirect_uri") ||
      (issued.codeChallenge !== null && (verifier === null || sha256url(verifier) !== issued.codeChallenge))
    ) {
      return sendJson(res, 400, { error: "invalid_grant" });
    }
    const accessToken = randomBytes(24).toString("base64url");
    accessTokens.add(accessToken);
    sendJson(res, 200, { access_token: accessToken, token_type: "Bearer", expires_in: 300, id_token: await idToken(issued.nonce) });
  }

  async function discovery(res: ServerResponse): Promise<void> {
    switch (idp.discoveryMode) {
      case "redirect":
        res.writeHead(302, { location: `${idp.issuer}/elsewhere/.well-known/openid-configuration` });
        return void res.end();
      case "slow":
        await new Promise((r) => setTimeout(r, 2000));
        return sendJson(res, 200, metadata());
      case "oversized": {
        // Chunked (no content-length): the client must cap what it reads, not trust a header.
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = "x".repeat(64 * 1024);
        res.write(`{"issuer":"${idp.issuer}","padding":"`);
        for (let i = 0; i < 40 && !res.destroyed; i++) res.write(chunk);
        return void res.end(`"}`);
      }
      default:
        return sendJson(res, 200, metadata());
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", idp.issuer);
    idp.hits.push(url.pathname + url.search);
    switch (`${req.method} ${url.pathname}`) {
      case "GET /.well-known/openid-configuration":
        return discovery(res);
      case "GET /jwks":
        return sendJson(res, 200, { keys: [goodJwk] });
      case "GET /authorize": {
        const q = url.searchParams;
        idp.authorizations.push(q);
        const code = randomBytes(16).toString("base64url");
        codes.set(code, { clientId: q.get("client_id") ?? "", redirectUri: q.get("redirect_uri") ?? "", nonce: q.get("nonce"), codeChallenge: q.get("code_challenge") });
        const back = new URL(q.get("redirect_uri") ?? "https://invalid.example/");
        back.searchParams.set("code", code);
        if (q.get("state") !== null) back.searchParams.set("state", q.get("state")!);
        back.searchParams.set("iss", idp.issuer);
        res.writeHead(302, { location: back.href });
        return void res.end();
      }
      case "POST /token":
        return token(req, res);
      case "GET /userinfo": {
        const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
        if (!bearer || !accessTokens.has(bearer)) return sendJson(res, 401, { error: "invalid_token" });
        return sendJson(res, 200, { sub: idp.subject, ...idp.userInfo });
      }
      default:
        return sendJson(res, 404, { error: "not_found" });
    }
  }

  const server: Server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(0, host === "[::1]" ? "::1" : host === "localhost" ? "127.0.0.1" : host, resolve));
  idp.issuer = `https://${host}:${(server.address() as AddressInfo).port}`;
  return idp;
}

