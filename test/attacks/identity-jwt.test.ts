import { randomBytes } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { ask, PROXY } from "../helpers/forward-auth.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import WebSocket from "ws";
import { APP_HOST, APP_ORIGIN, APP_RULES, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

/** What an app behind Gatehouse checks: the JWKS, the issuer, its own host as audience, an algorithm allow-list, the expiry. */
async function verify(jwks: JSONWebKeySet, token: string, opts: { issuer: string; audience: string; now: number }): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer: opts.issuer,
    audience: opts.audience,
    algorithms: ["ES256", "EdDSA"],
    currentDate: new Date(opts.now),
    clockTolerance: 5,
  });
  return payload;
}

/** A verification must fail (any jose error). */
async function refused(jwks: JSONWebKeySet, token: string, opts: { issuer: string; audience: string; now: number }): Promise<string> {
  try {
    await verify(jwks, token, opts);
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  throw new Error("the token was accepted");
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe.each(backendNames())("attack: the signed identity (Remote-JWT) cannot be forged, replayed elsewhere or outlive its key (%s)", (backend) => {
  let p: ProxyHarness;
  let h: Harness;
  let issuer: string;
  let portalHost: string;
  let user: { id: string; name: string };
  let cookie: string;
  const secretKey = randomBytes(32).toString("hex");
  const jwks = async (): Promise<JSONWebKeySet> => {
    const res = await h.request({ method: "GET", url: "/.well-known/jwks.json", headers: { host: portalHost } });
    expect(res.statusCode).toBe(200);
    return res.json() as JSONWebKeySet;
  };
  /** The JWT the upstream received for a signed-in request. */
  const proxiedJwt = async (): Promise<string> => {
    p.upstream.seen.length = 0;
    const res = await h.request({ method: "GET", url: "/home", cookie, headers: { host: APP_HOST } });
    expect(res.statusCode).toBe(200);
    const jwt = p.upstream.seen[0]?.headers["remote-jwt"];
    expect(typeof jwt).toBe("string");
    return jwt as string;
  };
  const opts = (audience = APP_HOST) => ({ issuer, audience, now: h.clock.now() });

  beforeAll(async () => {
    p = await startProxyHarness(backend, { IDENTITY_JWT: "on", SECRET_KEY: secretKey, TRUSTED_PROXIES: PROXY }, APP_RULES);
    h = p.h;
    issuer = new URL(h.publicUrl).origin;
    portalHost = new URL(h.publicUrl).host;
    const made = await h.account("user");
    user = { id: made.id, name: made.name };
    await signIn();
  });
  async function signIn(): Promise<void> {
    const login = await h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    cookie = sessionCookieFrom(login) as string;
  }
  afterAll(async () => p?.close());
  beforeEach(() => {
    p.upstream.seen.length = 0;
  });

  it("the JWKS: public keys only (never `d`), the active key, cacheable for 5 minutes, sessionless", async () => {
    const res = await h.request({ method: "GET", url: "/.well-known/jwks.json", headers: { host: portalHost } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("public, max-age=300");
    expect(res.headers["set-cookie"]).toBeUndefined();
    const set = res.json() as { keys: Record<string, unknown>[] };
    expect(set.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of set.keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    }
    expect(res.body).not.toMatch(/"d"\s*:/);
    // Also on a proxied host, under Gatehouse's prefix.
    const proxied = await h.request({ method: "GET", url: "/.gatehouse/.well-known/jwks.json", headers: { host: APP_HOST } });
    expect(proxied.json()).toEqual(set);
    // The private key is stored sealed, never as a JWK with `d` in clear.
    const rows = await h.gh.database.db.selectFrom("signing_keys").selectAll().execute();
    for (const row of rows) {
      expect(row.private_jwk).toMatch(/^v1\./);
      expect(row.private_jwk).not.toContain('"d"');
    }
  });

  it("a proxied request of a signed-in user carries a JWT of who they are, for this host only", async () => {
    const jwt = await proxiedJwt();
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: "ES256", typ: "JWT" });
    expect((await jwks()).keys.map((k) => k.kid)).toContain(header.kid);
    const claims = await verify(await jwks(), jwt, opts());
    expect(claims).toMatchObject({ iss: issuer, aud: APP_HOST, sub: user.id, preferred_username: user.name, email_verified: false, groups: ["user"], amr: ["pwd"], acr: "aal1" });
    expect(typeof claims.email).toBe("string");
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.auth_time).toBeLessThanOrEqual(claims.iat!);
    expect(typeof claims.jti).toBe("string");
    // The same request for another app's host is refused by that app's verifier.
    expect(await refused(await jwks(), jwt, opts("other.test"))).toBe("ERR_JWT_CLAIM_VALIDATION_FAILED");
  });

  it("a client's Remote-JWT never reaches the upstream: removed for anonymous bypass requests, replaced for signed-in ones (any spelling)", async () => {
    const forged = { "remote-jwt": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.", remote_jwt: "forged", "Remote_JWT": "forged2" };
    const anon = await h.request({ method: "GET", url: "/public/x", headers: { host: APP_HOST, ...forged } });
    expect(anon.statusCode).toBe(200);
    const seen = p.upstream.seen[0]!.headers;
    expect(Object.keys(seen).filter((n) => n.replaceAll("_", "-") === "remote-jwt")).toEqual([]);
    p.upstream.seen.length = 0;
    await h.request({ method: "GET", url: "/home", cookie, headers: { host: APP_HOST, ...forged } });
    const signed = p.upstream.seen[0]!.headers;
    expect(Object.keys(signed).filter((n) => n.replaceAll("_", "-") === "remote-jwt")).toEqual(["remote-jwt"]);
    expect(JSON.stringify(signed)).not.toContain("forged");
    expect((await verify(await jwks(), signed["remote-jwt"] as string, opts())).sub).toBe(user.id);
  });

  it("a WebSocket upgrade of a signed-in user reaches the app with a valid JWT, never the client's", async () => {
    const base = await listen(h);
    const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/ws`, [], { headers: { host: APP_HOST, origin: APP_ORIGIN, cookie, "remote-jwt": "forged", remote_jwt: "forged" } });
      ws.once("unexpected-response", (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
      ws.once("error", reject);
      ws.once("message", (data) => {
        resolve((JSON.parse(String(data)) as { hello: { headers: Record<string, string> } }).hello);
        ws.terminate();
      });
    });
    expect(JSON.stringify(hello.headers)).not.toContain("forged");
    expect((await verify(await jwks(), hello.headers["remote-jwt"]!, opts())).sub).toBe(user.id);
  });

  it("forward-auth: a signed-in answer carries the JWT (aud = X-Forwarded-Host), an anonymous one an empty header, a client's copy is never echoed", async () => {
    const signed = await ask(h, { host: APP_HOST, uri: "/home", cookie, headers: { host: portalHost, "remote-jwt": "forged" } });
    expect(signed.statusCode).toBe(200);
    const jwt = signed.headers["remote-jwt"] as string;
    expect(jwt).not.toBe("forged");
    expect((await verify(await jwks(), jwt, opts())).preferred_username).toBe(user.name);
    const anon = await ask(h, { host: APP_HOST, uri: "/public/x", headers: { host: portalHost, "remote-jwt": "forged" } });
    expect(anon.statusCode).toBe(200);
    expect(anon.headers["remote-jwt"]).toBe("");
    expect(anon.headers["remote-user"]).toBe("");
  });

  it("attack: `alg: none`, an attacker's key (its own kid, or Gatehouse's kid), a changed claim: all refused", async () => {
    const set = await jwks();
    const genuine = await proxiedJwt();
    const kid = decodeProtectedHeader(genuine).kid!;
    const now = Math.floor(h.clock.now() / 1000);
    const claims = { iss: issuer, aud: APP_HOST, sub: "admin", preferred_username: "admin", groups: ["user", "admin", "superadmin"], iat: now, nbf: now, exp: now + 60 };
    // alg none, with and without Gatehouse's kid.
    for (const header of [{ alg: "none", typ: "JWT" }, { alg: "none", typ: "JWT", kid }]) {
      expect(await refused(set, `${b64(header)}.${b64(claims)}.`, opts())).toMatch(/ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWS_INVALID|ERR_JWKS_NO_MATCHING_KEY/);
    }
    // An attacker's own ES256 key, under its own kid and under Gatehouse's.
    const attacker = await generateKeyPair("ES256");
    for (const k of ["attacker-key", kid]) {
      const forged = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: k, typ: "JWT" }).sign(attacker.privateKey);
      expect(await refused(set, forged, opts())).toMatch(/ERR_JWKS_NO_MATCHING_KEY|ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    }
    // An HMAC token keyed with the public key (algorithm confusion).
    const pub = set.keys.find((k) => k.kid === kid)!;
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid, typ: "JWT" }).sign(new TextEncoder().encode(JSON.stringify(pub)));
    expect(await refused(set, hmac, opts())).toMatch(/ERR_JOSE_ALG_NOT_ALLOWED|ERR_JWKS_NO_MATCHING_KEY/);
    // The genuine token with one claim changed.
    const [head, body, sig] = genuine.split(".");
    const changed = { ...(JSON.parse(Buffer.from(body!, "base64url").toString()) as object), sub: "admin" };
    expect(await refused(set, `${head}.${b64(changed)}.${sig}`, opts())).toBe("ERR_JWS_SIGNATURE_VERIFICATION_FAILED");
    // An attacker's JWK set is not Gatehouse's: the exported public key of the attacker is not published.
    expect(set.keys.map((k) => k.x)).not.toContain((await exportJWK(attacker.publicKey)).x);
  });

  it("attack: an expired token (replayed after its minute) is refused", async () => {
    const jwt = await proxiedJwt();
    const set = await jwks();
    expect((await verify(set, jwt, opts())).sub).toBe(user.id);
    h.clock.advance(66_000);
    expect(await refused(set, jwt, opts())).toBe("ERR_JWT_EXPIRED");
  });

  it("rotation: old tokens stay valid during the grace period; a removed key's tokens are refused; a retired key disappears after the grace period", async () => {
    h.clock.advance(61_000);
    const before = await proxiedJwt();
    const oldKid = decodeProtectedHeader(before).kid!;
    const { from, to } = await h.gh.identityTokens.rotate();
    expect(from).toEqual([oldKid]);
    h.clock.advance(11_000);
    const both = await jwks();
    expect(both.keys.map((k) => k.kid).sort()).toEqual([oldKid, to].sort());
    expect((await verify(both, before, opts())).sub).toBe(user.id);
    const after = await proxiedJwt();
    expect(decodeProtectedHeader(after).kid).toBe(to);
    const list = await h.gh.identityTokens.list();
    expect(list.find((k) => k.kid === oldKid)).toMatchObject({ state: "retired", published: true });

    // The grace period (max(1 h, 2 x TTL)) ends: the retired key is no longer published, then purged.
    h.clock.advance(3_600_000);
    expect((await jwks()).keys.map((k) => k.kid)).toEqual([to]);
    expect(await h.gh.identityTokens.purgeExpired()).toBe(1);
    expect((await h.gh.identityTokens.list()).map((k) => k.kid)).toEqual([to]);

    // A compromised active key removed at once: a new one signs, its tokens no longer verify.
    await signIn(); // (the session idled out during the hour)
    const compromised = await proxiedJwt();
    expect(decodeProtectedHeader(compromised).kid).toBe(to);
    const removed = await h.gh.identityTokens.remove(to);
    expect(removed?.active).not.toBe(to);
    h.clock.advance(11_000);
    const fresh = await jwks();
    expect(fresh.keys.map((k) => k.kid)).toEqual([removed!.active]);
    expect(await refused(fresh, compromised, opts())).toBe("ERR_JWKS_NO_MATCHING_KEY");
    expect(decodeProtectedHeader(await proxiedJwt()).kid).toBe(removed!.active);
    expect(await h.gh.identityTokens.remove("no-such-key")).toBeNull();
  });

  it("after a restore deleted the keys (backups carry none), a new key signs and is published within a minute", async () => {
    await h.gh.database.db.deleteFrom("signing_keys").execute();
    h.clock.advance(61_000);
    await signIn();
    const jwt = await proxiedJwt();
    const set = await jwks();
    expect(set.keys.map((k) => k.kid)).toEqual([decodeProtectedHeader(jwt).kid]);
    expect((await verify(set, jwt, opts())).sub).toBe(user.id);
  });

  it("the key persists across a restart (a second instance on the same database publishes and signs with the same key)", async () => {
    const kids = (await jwks()).keys.map((k) => k.kid);
    const second = await startHarness(backend, { IDENTITY_JWT: "on", SECRET_KEY: secretKey, UPSTREAM_URL: p.upstream.url, GATEHOUSE_CONFIG: `${p.rulesDir}/gatehouse.yml` }, h.clock, { sharedBackend: h.backend });
    try {
      const res = await second.request({ method: "GET", url: "/.well-known/jwks.json", headers: { host: portalHost } });
      expect((res.json() as JSONWebKeySet).keys.map((k) => k.kid)).toEqual(kids);
      expect(await second.gh.database.db.selectFrom("signing_keys").select("kid").execute()).toHaveLength(kids.length);
    } finally {
      await second.close();
    }
  });
});

describe.each(backendNames())("IDENTITY_JWT off: no JWT, no JWKS, and a client's copy of the header is still removed (%s)", (backend) => {
  let p: ProxyHarness;
  beforeAll(async () => {
    p = await startProxyHarness(backend, { IDENTITY_JWT_HEADER: "X-Identity-Token", TRUSTED_PROXIES: PROXY }, APP_RULES);
  });
  afterAll(async () => p?.close());

  it("/.well-known/jwks.json is 404 with the JSON error; no key is made", async () => {
    const res = await p.h.request({ method: "GET", url: "/.well-known/jwks.json", headers: { host: new URL(p.h.publicUrl).host } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: "not_found" });
    expect(await p.h.gh.database.db.selectFrom("signing_keys").selectAll().execute()).toEqual([]);
  });

  it("a client's X-Identity-Token (the configured header) and Remote-JWT never reach the upstream", async () => {
    const login = await p.h.account("user");
    void login;
    const res = await p.h.request({ method: "GET", url: "/public/x", headers: { host: APP_HOST, "x-identity-token": "forged", "x_identity_token": "forged", "remote-jwt": "forged" } });
    expect(res.statusCode).toBe(200);
    expect(JSON.stringify(p.upstream.seen[0]!.headers)).not.toContain("forged");
    const fwd = await ask(p.h, { host: APP_HOST, uri: "/public/x", headers: { host: new URL(p.h.publicUrl).host, "x-identity-token": "forged" } });
    expect(fwd.statusCode).toBe(200);
    expect(fwd.headers["x-identity-token"]).toBeUndefined();
    expect(fwd.headers["remote-jwt"]).toBeUndefined();
  });
});

describe.each(backendNames())("two instances making the first signing key at once both end up with usable keys (%s)", (backend) => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const secretKey = randomBytes(32).toString("hex");
    // Started with the feature off, so neither has a key yet; the race is run by hand below.
    a = await startHarness(backend, { SECRET_KEY: secretKey });
    b = await startHarness(backend, { SECRET_KEY: secretKey }, a.clock, { sharedBackend: a.backend });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("each instance's tokens verify against the other's JWKS", async () => {
    await Promise.all([a.gh.identityTokens.ensureActiveKey(), b.gh.identityTokens.ensureActiveKey()]);
    const active = (await a.gh.identityTokens.list()).filter((k) => k.state === "active");
    expect(active.length).toBeGreaterThanOrEqual(1);
    expect(active.length).toBeLessThanOrEqual(2);
    const user = await a.account("user");
    const signedIn = (await a.gh.sessions.validate(decodeURIComponent(user.cookie.split("=")[1]!.split(";")[0]!)))!;
    expect(signedIn).not.toBeNull();
    const issuer = new URL(a.publicUrl).origin;
    const [fromA, fromB] = [await a.gh.identityTokens.mint(signedIn, APP_HOST), await b.gh.identityTokens.mint(signedIn, APP_HOST)];
    for (const set of [await a.gh.identityTokens.jwks(), await b.gh.identityTokens.jwks()]) {
      for (const token of [fromA, fromB]) expect((await verify(set as JSONWebKeySet, token, { issuer, audience: APP_HOST, now: a.clock.now() })).sub).toBe(user.id);
    }
  });
});
