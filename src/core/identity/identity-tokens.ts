import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";
import type { Clock } from "../clock.js";
import type { Random } from "../random.js";
import type { SecretBox, SecretContext } from "../secrets/secret-box.js";
import type { ValidSession } from "../sessions/session-service.js";
import { ROLES } from "../users/user.js";
import type { SigningAlg, SigningKeyStore, StoredSigningKey } from "./signing-key-store.js";

/** A public key as published at `/.well-known/jwks.json`: never a private parameter. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y?: string;
  kid: string;
  alg: SigningAlg;
  use: "sig";
}

/** A signing key as `gatehouse keys status` lists it (no key material). */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  state: "active" | "retired";
  createdAt: number;
  retiredAt: number | null;
  /** Still published at the JWKS endpoint (active, or retired within the grace period). */
  published: boolean;
}

/** Dependencies and settings of {@link createIdentityTokens}. */
export interface IdentityTokensDeps {
  store: SigningKeyStore;
  /** Seals the private JWKs at rest. */
  box: SecretBox;
  clock: Clock;
  random: Random;
  /** `iss`: the portal's origin (PUBLIC_URL). */
  issuer: string;
  /** Lifetime of a token, ms (IDENTITY_JWT_TTL). */
  ttlMs: number;
  /** The algorithm of new keys (IDENTITY_JWT_ALG). */
  alg: SigningAlg;
  /** How old the loaded key set may be when a token is signed (default 60 s): a rotation by the CLI reaches every instance within it. */
  reloadMs?: number;
  /** How old the key set may be when the JWKS is answered (default 10 s). */
  jwksReloadMs?: number;
}

/**
 * The signed identity handed to protected apps (`Remote-JWT`,
 * docs/identity-jwt.md): short-lived JWTs signed with a key kept in the
 * database, their public keys, and the keys' rotation.
 */
export interface IdentityTokens {
  /**
   * A compact JWS for a signed-in session, for the app on `audience` (its
   * lower-case `host[:port]`): `iss`, `aud`, `sub`, `preferred_username`,
   * `email` (when set), `email_verified`, `groups`, `amr`, `acr`,
   * `auth_time`, `iat`, `nbf`, `exp`, `jti`. Creates a key first when none is active.
   */
  mint(signedIn: ValidSession, audience: string): Promise<string>;
  /** The published public keys: the active ones and retired ones within their grace period (never `d`); makes a key when none is active. */
  jwks(): Promise<{ keys: PublicJwk[] }>;
  /** Creates an active key when there is none (start); returns the kid signing now. */
  ensureActiveKey(): Promise<string>;
  /** A new active key; every other active key is retired (published for the grace period). */
  rotate(): Promise<{ from: string[]; to: string }>;
  /**
   * Removes a key at once (a compromised one): tokens it signed stop
   * verifying as soon as verifiers refresh the JWKS. Removing the active key
   * makes a new one first. Returns the kid now signing, or null when `kid` was unknown.
   */
  remove(kid: string): Promise<{ active: string } | null>;
  /** Every stored key, without key material. */
  list(): Promise<SigningKeyInfo[]>;
  /** Deletes retired keys past their grace period; returns how many. */
  purgeExpired(): Promise<number>;
  /** How long a retired key stays published: max(1 h, 2 × TTL). */
  readonly graceMs: number;
}

interface LoadedKeys {
  at: number;
  signer: { kid: string; alg: SigningAlg; key: CryptoKey } | null;
  published: PublicJwk[];
}

const HOUR_MS = 3_600_000;

/** The envelope context of one key's private JWK. */
export const signingKeyContext = (kid: string): SecretContext => ({ table: "signing_keys", column: "private_jwk", id: kid });

/** The groups of a role, lowest first (the list `Remote-Groups` carries). */
function groupsOf(role: (typeof ROLES)[number]): string[] {
  const i = ROLES.indexOf(role);
  return i === -1 ? [] : ROLES.slice(0, i + 1);
}

/** The public parameters of a JWK, and nothing else. */
function publicPart(jwk: JWK, kid: string, alg: SigningAlg): PublicJwk {
  const out: PublicJwk = { kty: String(jwk.kty), crv: String(jwk.crv), x: String(jwk.x), kid, alg, use: "sig" };
  if (typeof jwk.y === "string") out.y = jwk.y;
  return out;
}

/** Builds the {@link IdentityTokens} of one instance. */
export function createIdentityTokens(deps: IdentityTokensDeps): IdentityTokens {
  const { store, box, clock, random } = deps;
  const issuer = new URL(deps.issuer).origin;
  const reloadMs = deps.reloadMs ?? 60_000;
  const jwksReloadMs = deps.jwksReloadMs ?? 10_000;
  const graceMs = Math.max(HOUR_MS, 2 * deps.ttlMs);
  let loaded: LoadedKeys | null = null;
  let loading: Promise<LoadedKeys> | null = null;
  let ensuring: Promise<string> | null = null;

  const isPublished = (k: StoredSigningKey, now: number): boolean => k.state === "active" || (k.retiredAt !== null && k.retiredAt + graceMs > now);

  async function createKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(deps.alg, { extractable: true });
    const kid = random.bytes(10).toString("hex");
    const pub = publicPart(await exportJWK(publicKey), kid, deps.alg);
    const priv = await exportJWK(privateKey);
    await store.insert({
      kid,
      alg: deps.alg,
      publicJwk: JSON.stringify(pub),
      privateEnvelope: box.seal(JSON.stringify(priv), signingKeyContext(kid)),
      state: "active",
      createdAt: clock.now(),
      retiredAt: null,
    });
    loaded = null;
    return kid;
  }

  async function read(): Promise<LoadedKeys> {
    const now = clock.now();
    const rows = await store.list();
    const published = rows.filter((k) => isPublished(k, now)).map((k) => JSON.parse(k.publicJwk) as PublicJwk);
    // Two instances starting at once may both create a key: the newest active one signs, both are published.
    const newest = rows.filter((k) => k.state === "active").sort((a, b) => b.createdAt - a.createdAt || (a.kid < b.kid ? 1 : -1))[0];
    let signer: LoadedKeys["signer"] = null;
    if (newest !== undefined) {
      const jwk = JSON.parse(box.open(newest.privateEnvelope, signingKeyContext(newest.kid))) as JWK;
      signer = { kid: newest.kid, alg: newest.alg, key: (await importJWK(jwk, newest.alg)) as CryptoKey };
    }
    return { at: now, signer, published };
  }

  async function keys(maxAgeMs: number): Promise<LoadedKeys> {
    if (loaded !== null && clock.now() - loaded.at < maxAgeMs) return loaded;
    loading ??= read().finally(() => (loading = null));
    const fresh = await loading;
    loaded = fresh;
    return fresh;
  }

  async function signer(): Promise<NonNullable<LoadedKeys["signer"]>> {
    let set = await keys(reloadMs);
    if (set.signer === null) {
      await tokens.ensureActiveKey();
      set = await keys(0);
    }
    if (set.signer === null) throw new Error("no active identity signing key");
    return set.signer;
  }

  const tokens: IdentityTokens = {
    graceMs,
    async mint({ session, user }, audience) {
      const key = await signer();
      const iat = Math.floor(clock.now() / 1000);
      const claims: Record<string, unknown> = {
        iss: issuer,
        aud: audience,
        sub: user.id,
        preferred_username: user.username,
        ...(user.email !== null ? { email: user.email } : {}),
        email_verified: user.emailVerified,
        groups: groupsOf(user.role),
        amr: [...session.amr],
        acr: session.aal,
        auth_time: Math.floor(session.createdAt / 1000),
        iat,
        nbf: iat,
        exp: iat + Math.floor(deps.ttlMs / 1000),
        jti: random.bytes(16).toString("base64url"),
      };
      return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" }).sign(key.key);
    },
    async jwks() {
      let set = await keys(jwksReloadMs);
      // No active key (a restore deleted them): one is made, as the next token would.
      if (set.signer === null) {
        await tokens.ensureActiveKey();
        set = await keys(0);
      }
      return { keys: set.published };
    },
    ensureActiveKey() {
      // One check at a time in this instance: concurrent requests never make a key each.
      ensuring ??= (async () => {
        const rows = await store.list();
        const active = rows.filter((k) => k.state === "active").sort((a, b) => b.createdAt - a.createdAt)[0];
        return active !== undefined ? active.kid : createKey();
      })().finally(() => (ensuring = null));
      return ensuring;
    },
    async rotate() {
      const to = await createKey();
      const from = await store.retireAllBut(to, clock.now());
      loaded = null;
      return { from, to };
    },
    async remove(kid) {
      const rows = await store.list();
      const found = rows.find((k) => k.kid === kid);
      if (found === undefined) return null;
      const others = rows.filter((k) => k.kid !== kid && k.state === "active");
      const active = others.length > 0 ? others.sort((a, b) => b.createdAt - a.createdAt)[0]!.kid : await createKey();
      await store.remove(kid);
      loaded = null;
      return { active };
    },
    async list() {
      const now = clock.now();
      return (await store.list()).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, createdAt: k.createdAt, retiredAt: k.retiredAt, published: isPublished(k, now) }));
    },
    async purgeExpired() {
      const count = await store.purgeRetiredBefore(clock.now() - graceMs);
      if (count > 0) loaded = null;
      return count;
    },
  };
  return tokens;
}
