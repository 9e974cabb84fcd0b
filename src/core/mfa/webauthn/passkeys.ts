import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { AuditLog } from "../../audit/audit-log.js";
import type { Clock } from "../../clock.js";
import { generateToken, hashToken, isWellFormedToken } from "../../crypto/tokens.js";
import { GatehouseError } from "../../errors.js";
import type { Random } from "../../random.js";
import type { Session } from "../../sessions/session.js";
import type { SessionOrigin } from "../../sessions/session-service.js";
import type { PendingSignInStore } from "../../sign-in/pending-sign-in-store.js";
import type { SignedIn, SignIn } from "../../sign-in/sign-in.js";
import type { User } from "../../users/user.js";
import type { UserStore } from "../../users/user-store.js";
import type { NotifyUser } from "../account-notices.js";
import type { SecondFactorContext } from "../../sign-in/second-factors.js";
import { bindingHash, type ChallengeBinding } from "./challenge-binding.js";
import type { RelyingParty } from "./relying-party.js";
import type { ChallengePurpose, PasskeyRecord, WebAuthnStore } from "./webauthn-store.js";

/** Bytes of a ceremony's challenge (MFA-06: 32 random bytes). */
export const CHALLENGE_BYTES = 32;
/** How long a challenge may be answered (MFA-06: at most 5 minutes). */
export const CHALLENGE_MS = 5 * 60_000;
/** The only COSE algorithms a passkey may use: ES256 (-7) and RS256 (-257). */
export const PASSKEY_ALGORITHMS: readonly number[] = [-7, -257];
/** Passkeys one account may hold. */
export const MAX_PASSKEYS = 20;

/** A passkey as its owner sees it: never its key or counter. */
export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** The authenticator says the key is synced to a backup (a cloud keychain). */
  backedUp: boolean;
  /** `multiDevice` for a synced passkey, `singleDevice` for one bound to its authenticator. */
  deviceType: "singleDevice" | "multiDevice";
}

/** Options for a passwordless sign-in, and the token of the anonymous challenge cookie they are bound to. */
export interface PasswordlessOptions {
  options: PublicKeyCredentialRequestOptionsJSON;
  /** Goes in the challenge cookie, the only place it exists. */
  token: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Passkeys (WebAuthn): registration, a second factor after a password, and
 * passwordless sign-in with a discoverable passkey. Every ceremony's
 * challenge is 32 random bytes, answers once, within 5 minutes, and only
 * for what asked for it (the session, the pending sign-in or the anonymous
 * challenge cookie). Responses are checked for the expected origin, RP ID,
 * challenge, type, user presence, user verification where required, an
 * allowed algorithm and the signature; attestation is `none`.
 */
export interface Passkeys {
  /** Registration options for `user`, bound to the session that asks. */
  registrationOptions(user: User, session: Session): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /**
   * Verifies a registration response and stores the passkey (audited
   * `webauthn_registered`, the user mailed). Throws 400 `passkey_rejected`
   * for a response that does not verify or a challenge that is unknown,
   * used, expired or another session's; 409 `too_many_passkeys` past {@link MAX_PASSKEYS}.
   */
  register(user: User, session: Session, response: unknown, name: string | undefined, origin: SessionOrigin): Promise<PasskeySummary>;
  /** The user's passkeys, oldest first. */
  list(userId: string): Promise<PasskeySummary[]>;
  /** Renames one of the user's passkeys; 404 `not_found` when it is not theirs. */
  rename(user: User, id: string, name: string): Promise<PasskeySummary>;
  /**
   * Removes one of the user's passkeys. Needs a recent re-authentication
   * (403 `reauth_required`); 404 `not_found` when it is not theirs. Audited
   * `webauthn_removed`; the user is mailed.
   */
  remove(user: User, session: Session, id: string, origin: SessionOrigin): Promise<void>;
  /** Removes every passkey of the user, silently (an administrator's reset audits and mails once for every factor). */
  removeAll(userId: string): Promise<void>;
  /**
   * Options to complete the pending sign-in of `pendingTokenHash` with a
   * passkey: the user's passkeys as `allowCredentials`. Throws 401
   * `sign_in_expired` when the pending sign-in is unknown, expired or held
   * by another user agent.
   */
  secondFactorOptions(pendingTokenHash: string, origin: SessionOrigin): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /** Options for a signed-in session to step up with one of its user's passkeys (the challenge is bound to the session). */
  stepUpOptions(user: Pick<User, "id">, session: Pick<Session, "id">): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * True when `code` (the JSON of an assertion) proves `user`'s passkey and
   * answers a challenge issued to `bound`: the pending sign-in it completes,
   * or the session it steps up. False without either.
   */
  verifySecondFactor(user: User, code: string, bound: SecondFactorContext | undefined, origin: SessionOrigin): Promise<boolean>;
  /**
   * Options for a passwordless sign-in: no username, no `allowCredentials`
   * (the passkey is discoverable), user verification required. They are the
   * same for everyone, so they say nothing about any account (MFA-09).
   */
  passwordlessOptions(): Promise<PasswordlessOptions>;
  /**
   * Signs in with a discoverable passkey (amr `hwk mfa`, aal2: the passkey
   * verified the user). Throws 401 `invalid_passkey` for anything that does
   * not verify (and 403 `account_blocked` for a blocked account).
   */
  passwordlessSignIn(token: string | null, response: unknown, origin: SessionOrigin, replacing: string | null): Promise<SignedIn>;
  /** True when the user has a passkey. */
  hasAny(userId: string): Promise<boolean>;
  /** Deletes expired challenges; returns how many. */
  purgeExpired(): Promise<number>;
}

/** The method name of passkeys (`mfa_required`'s `methods`, `POST /api/auth/mfa/verify`'s `method`). */
export const PASSKEY_METHOD = "webauthn";

/** Dependencies of {@link createPasskeys}. */
export interface PasskeysDeps {
  store: WebAuthnStore;
  users: Pick<UserStore, "findById">;
  pendingSignIns: Pick<PendingSignInStore, "find">;
  signIn: SignIn;
  audit: AuditLog;
  notify: NotifyUser;
  clock: Clock;
  random: Random;
  rp: RelyingParty;
  requireRecentAuth(session: Session): void;
  /** Throws 409 `last_second_factor` when the policy keeps the user from removing this passkey (MFA-08; `MfaPolicy.assertMayRemove`). */
  assertMayRemove?: (user: User, method: string, opts: { lastOfItsKind: boolean }) => Promise<void>;
  /** Whether a user may sign in at all (email verification where required). */
  canSignIn?: (user: User) => Promise<boolean>;
}

// The WebAuthn library (and its ASN.1 and COSE dependencies) loads on the first ceremony, not at start-up (docs/performance.md).
let webauthnLib: Promise<typeof import("@simplewebauthn/server")> | null = null;
const lib = () => (webauthnLib ??= import("@simplewebauthn/server"));

function summaryOf(p: PasskeyRecord): PasskeySummary {
  return { id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt, backedUp: p.backedUp, deviceType: p.deviceType };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** The challenge a response's clientDataJSON answers, or null for anything malformed. */
function challengeOf(response: unknown): string | null {
  if (!isObject(response) || typeof response.id !== "string" || !isObject(response.response)) return null;
  const clientData = response.response.clientDataJSON;
  if (typeof clientData !== "string" || clientData.length > 4096 || !BASE64URL.test(clientData)) return null;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(clientData, "base64url").toString("utf8"));
    if (!isObject(parsed) || typeof parsed.challenge !== "string" || !BASE64URL.test(parsed.challenge)) return null;
    return parsed.challenge;
  } catch {
    return null;
  }
}

/** A passkey's name: trimmed, control characters removed, at most 100 characters; "Passkey" when empty. */
function cleanName(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const clean = (name ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 100);
  return clean === "" ? "Passkey" : clean;
}

/** Creates the {@link Passkeys} service. */
export function createPasskeys(deps: PasskeysDeps): Passkeys {
  const { store, users, pendingSignIns, signIn, audit, notify, clock, random, rp } = deps;

  async function issueChallenge(purpose: ChallengePurpose, userId: string | null, binding: ChallengeBinding): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = random.bytes(CHALLENGE_BYTES);
    const now = clock.now();
    await store.insertChallenge({
      id: random.uuid(),
      challengeHash: hashToken(bytes.toString("base64url")),
      purpose,
      userId,
      bindingHash: bindingHash(binding),
      createdAt: now,
      expiresAt: now + CHALLENGE_MS,
    });
    return Uint8Array.from(bytes);
  }

  /** Uses up the challenge a response answers, if it was issued for `purpose` to `binding` and is still valid. */
  /** Options for `userId`'s passkeys as a second factor, the challenge bound to a pending sign-in or a session. */
  async function secondFactorOptionsFor(userId: string, binding: ChallengeBinding) {
    const passkeys = await store.listByUser(userId);
    const challenge = await issueChallenge("second_factor", userId, binding);
    const { generateAuthenticationOptions } = await lib();
    return generateAuthenticationOptions({
      rpID: rp.id,
      allowCredentials: passkeys.map((p) => ({ id: p.credentialId, transports: p.transports })),
      challenge,
      timeout: CHALLENGE_MS,
      userVerification: "preferred",
    });
  }

  async function consume(response: unknown, purpose: ChallengePurpose, binding: ChallengeBinding) {
    const challenge = challengeOf(response);
    if (challenge === null) return null;
    const row = await store.consumeChallenge(hashToken(challenge), purpose, bindingHash(binding), clock.now());
    return row === null ? null : { challenge, userId: row.userId };
  }

  /**
   * Checks an assertion against a stored passkey, then its counter (MFA-07):
   * a counter that does not move forward from a stored one above 0 is
   * refused and audited as a possible cloned authenticator.
   */
  async function verifyAssertion(record: PasskeyRecord, response: unknown, challenge: string, requireUv: boolean, origin: SessionOrigin): Promise<boolean> {
    let info;
    try {
      const { verifyAuthenticationResponse } = await lib();
      const result = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        expectedType: "webauthn.get",
        // The counter is checked below, where a regression is audited; the library sees none.
        credential: { id: record.credentialId, publicKey: new Uint8Array(Buffer.from(record.publicKey, "base64url")), counter: 0, transports: record.transports },
        requireUserVerification: requireUv,
      });
      if (!result.verified) return false;
      info = result.authenticationInfo;
    } catch {
      return false;
    }
    if (requireUv && !info.userVerified) return false;
    const counter = info.newCounter;
    if (record.counter > 0 && counter <= record.counter) {
      await audit.record({
        type: "webauthn_counter_regression",
        userId: record.userId,
        details: { passkeyId: record.id, storedCounter: record.counter, presentedCounter: counter },
        ...origin,
      });
      return false;
    }
    return store.recordUse(record.id, counter, info.credentialBackedUp, clock.now());
  }

  async function ownPasskey(userId: string, id: string): Promise<PasskeyRecord> {
    const found = (await store.listByUser(userId)).find((p) => p.id === id);
    if (found === undefined) throw new GatehouseError("not_found");
    return found;
  }

  return {
    async registrationOptions(user, session) {
      const existing = await store.listByUser(user.id);
      if (existing.length >= MAX_PASSKEYS) throw new GatehouseError("too_many_passkeys");
      const challenge = await issueChallenge("register", user.id, { kind: "session", sessionId: session.id });
      const { generateRegistrationOptions } = await lib();
      return generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName: user.username,
        userDisplayName: user.username,
        // The user handle a discoverable passkey returns at a passwordless sign-in: the account id, never the name.
        userID: new Uint8Array(Buffer.from(user.id, "utf8")),
        challenge,
        timeout: CHALLENGE_MS,
        attestationType: "none",
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
        // Discoverable where the authenticator can (passwordless sign-in); verified where it can.
        authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
        supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
      });
    },

    async register(user, session, response, name, origin) {
      const rejected = () => new GatehouseError("passkey_rejected");
      const used = await consume(response, "register", { kind: "session", sessionId: session.id });
      if (used === null || used.userId !== user.id) throw rejected();
      let info;
      try {
        const { verifyRegistrationResponse } = await lib();
        const result = await verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge: used.challenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          expectedType: "webauthn.create",
          requireUserPresence: true,
          requireUserVerification: false,
          supportedAlgorithmIDs: [...PASSKEY_ALGORITHMS],
        });
        if (!result.verified) throw rejected();
        info = result.registrationInfo;
      } catch {
        throw rejected();
      }
      if ((await store.listByUser(user.id)).length >= MAX_PASSKEYS) throw new GatehouseError("too_many_passkeys");
      if ((await store.findByCredentialId(info.credential.id)) !== null) throw rejected();
      const record: PasskeyRecord = {
        id: random.uuid(),
        userId: user.id,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
        counter: info.credential.counter,
        transports: (info.credential.transports ?? []).filter((t) => /^[a-z-]{1,32}$/.test(t)).slice(0, 8),
        deviceType: info.credentialDeviceType,
        backedUp: info.credentialBackedUp,
        name: cleanName(name),
        createdAt: clock.now(),
        lastUsedAt: null,
      };
      try {
        await store.insertCredential(record);
      } catch {
        // The same credential registered concurrently (the unique credential id).
        throw rejected();
      }
      await audit.record({ type: "webauthn_registered", userId: user.id, actorId: user.id, details: { passkeyId: record.id, backedUp: record.backedUp, deviceType: record.deviceType }, ...origin });
      notify("second_factor_added", user);
      return summaryOf(record);
    },

    list: async (userId) => (await store.listByUser(userId)).map(summaryOf),

    async rename(user, id, name) {
      const clean = cleanName(name);
      if (!(await store.rename(user.id, id, clean))) throw new GatehouseError("not_found");
      return summaryOf(await ownPasskey(user.id, id));
    },

    async remove(user, session, id, origin) {
      deps.requireRecentAuth(session);
      const own = await store.listByUser(user.id);
      if (!own.some((p) => p.id === id)) throw new GatehouseError("not_found");
      await deps.assertMayRemove?.(user, PASSKEY_METHOD, { lastOfItsKind: own.length === 1 });
      if (!(await store.delete(user.id, id))) throw new GatehouseError("not_found");
      await audit.record({ type: "webauthn_removed", userId: user.id, actorId: user.id, details: { passkeyId: id }, ...origin });
      notify("second_factor_removed", user);
    },

    async removeAll(userId) {
      for (const p of await store.listByUser(userId)) await store.delete(userId, p.id);
    },

    async secondFactorOptions(pendingTokenHash, origin) {
      const pending = await pendingSignIns.find(pendingTokenHash, clock.now());
      if (pending === null || pending.userAgent !== origin.userAgent.slice(0, 512)) throw new GatehouseError("sign_in_expired");
      return secondFactorOptionsFor(pending.userId, { kind: "pending", tokenHash: pendingTokenHash });
    },

    stepUpOptions: (user, session) => secondFactorOptionsFor(user.id, { kind: "session", sessionId: session.id }),

    async verifySecondFactor(user, code, bound, origin) {
      const binding: ChallengeBinding | null =
        bound?.pendingTokenHash !== undefined ? { kind: "pending", tokenHash: bound.pendingTokenHash }
        : bound?.sessionId !== undefined ? { kind: "session", sessionId: bound.sessionId }
        : null;
      if (binding === null || code.length > 16_384) return false;
      let response: unknown;
      try {
        response = JSON.parse(code);
      } catch {
        return false;
      }
      const used = await consume(response, "second_factor", binding);
      if (used === null || used.userId !== user.id) return false;
      const record = await store.findByCredentialId((response as { id: string }).id);
      if (record === null || record.userId !== user.id) return false;
      return verifyAssertion(record, response, used.challenge, false, origin);
    },

    async passwordlessOptions() {
      const token = generateToken(random);
      const challenge = await issueChallenge("passwordless", null, { kind: "anonymous", token });
      const now = clock.now();
      const { generateAuthenticationOptions } = await lib();
      const options = await generateAuthenticationOptions({ rpID: rp.id, allowCredentials: [], challenge, timeout: CHALLENGE_MS, userVerification: "required" });
      return { options, token, createdAt: now, expiresAt: now + CHALLENGE_MS };
    },

    async passwordlessSignIn(token, response, origin, replacing) {
      const invalid = () => new GatehouseError("invalid_passkey");
      if (token === null || !isWellFormedToken(token)) throw invalid();
      const used = await consume(response, "passwordless", { kind: "anonymous", token });
      if (used === null) throw invalid();
      const record = await store.findByCredentialId((response as { id: string }).id);
      if (record === null) throw invalid();
      // A discoverable passkey names its account (the user handle): it must be the passkey's own.
      const handle = isObject(response) && isObject(response.response) ? response.response.userHandle : undefined;
      if (handle !== undefined && (typeof handle !== "string" || Buffer.from(handle, "base64url").toString("utf8") !== record.userId)) throw invalid();
      const user = await users.findById(record.userId);
      if (user === null) throw invalid();
      if (!(await verifyAssertion(record, response, used.challenge, true, origin))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "passkey_rejected", method: "passkey" }, ...origin });
        throw invalid();
      }
      if (user.blocked) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "blocked", method: "passkey" }, ...origin });
        throw new GatehouseError("account_blocked");
      }
      if (deps.canSignIn && !(await deps.canSignIn(user))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "email_unverified", method: "passkey" }, ...origin });
        throw invalid();
      }
      // The passkey is held (hwk) and verified its user (UV, required above): two factors in one (mfa, aal2).
      return signIn({ user, methods: ["hwk", "mfa"], flow: "login", origin, remember: false, replacing });
    },

    hasAny: (userId) => store.hasAny(userId),

    purgeExpired: () => store.deleteExpiredChallenges(clock.now()),
  };
}
