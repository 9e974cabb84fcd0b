import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { CheckContext, SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { Session } from "../sessions/session.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { User } from "../users/user.js";
import {
  API_TOKEN_PREFIX,
  isTokenScope,
  isWellFormedApiToken,
  TOKEN_SCOPES,
  VISIBLE_RANDOM_CHARS,
  type ApiToken,
  type TokenScope,
} from "./api-token.js";
import type { ApiTokenStore } from "./api-token-store.js";

const DAY = 86_400_000;
/** Expiry of a token created without one (TOK-01). */
export const DEFAULT_TOKEN_DAYS = 90;
/** The longest expiry a token may have (TOK-01: one year). */
export const MAX_TOKEN_DAYS = 365;
/** Longest token name. */
export const MAX_TOKEN_NAME = 100;
/** How often, at most, a token's last-used time is written. */
export const TOKEN_TOUCH_INTERVAL_MS = 60_000;
/** Default cap on the tokens one user may hold. */
export const DEFAULT_MAX_TOKENS_PER_USER = 50;

/** Dependencies of {@link createApiTokenService}. */
export interface ApiTokenServiceDeps {
  store: ApiTokenStore;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  /** The shared brute-force regulation: bad tokens are throttled like bad passwords (RL-04). */
  regulator: SecretRegulator;
  /** Throws 403 `reauth_required` unless the session re-authenticated recently (token creation is a sudo action). */
  requireRecentAuth(session: Session): void;
  /** Most tokens one user may hold (default 50). */
  maxPerUser?: number;
}

/** What a user asks for when creating a token. */
export interface NewApiToken {
  name: string;
  scopes: readonly string[];
  /** Days until expiry: 1 to 365, default 90. */
  expiresInDays?: number | undefined;
}

/** A freshly created token and its secret: the only time the secret exists outside the client. */
export interface IssuedApiToken {
  token: ApiToken;
  secret: string;
}

/** A request authenticated by an API token: the token and its owner, both as read just now. */
export interface TokenAuth {
  token: ApiToken;
  user: User;
}

/** Personal API tokens: create, list, revoke and authenticate. */
export interface ApiTokenService {
  /**
   * Creates a token for `user` after checking the input and a recent
   * re-authentication of `session`; audited as `api_token_created` (id and
   * prefix only). The returned secret is never stored nor shown again.
   */
  create(user: User, session: Session, input: NewApiToken, origin: SessionOrigin): Promise<IssuedApiToken>;
  /** The user's own tokens, newest first. */
  list(user: User, limit: number, offset: number): Promise<ApiToken[]>;
  /** One of the user's own tokens, or null (unknown and foreign ids look alike, AZ-03). */
  get(user: User, id: string): Promise<ApiToken | null>;
  /** Deletes one of the user's own tokens; false when it is not theirs. Audited as `api_token_revoked`. */
  revoke(user: User, id: string, origin: SessionOrigin): Promise<boolean>;
  /** Deletes every token of a user; returns how many. */
  revokeAllForUser(userId: string): Promise<number>;
  /**
   * The token and owner of a presented secret, or null when it is malformed,
   * unknown, expired or its owner is blocked. Every bad token is a failed
   * check of the shared regulator keyed by the client IP, so the 11th bad
   * token from one address is refused with 429 and trips toward a ban
   * (RL-04, TOK-02). A valid token is not run through the regulator: its
   * pessimistic count-before-verify would turn a script's concurrent calls
   * into 429s and ban trips, and a success would reset the IP's counter (so
   * one valid token could launder guesses made with others).
   */
  authenticate(secret: string, ctx: CheckContext): Promise<TokenAuth | null>;
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return true;
  }
  return false;
}

function invalid(field: string): GatehouseError {
  return new GatehouseError("invalid_request", { fields: [field] });
}

/** Checks a creation request; returns the clean name, the scopes (deduplicated, in canonical order) and the days. */
function checkInput(input: NewApiToken): { name: string; scopes: TokenScope[]; days: number } {
  const name = typeof input.name === "string" ? input.name.trim() : "";
  if (name.length === 0 || name.length > MAX_TOKEN_NAME || hasControlCharacter(name)) throw invalid("name");
  if (!Array.isArray(input.scopes) || input.scopes.length === 0 || input.scopes.length > TOKEN_SCOPES.length * 2) throw invalid("scopes");
  if (!input.scopes.every(isTokenScope)) throw invalid("scopes");
  const scopes = TOKEN_SCOPES.filter((s) => input.scopes.includes(s));
  const days = input.expiresInDays ?? DEFAULT_TOKEN_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_DAYS) throw invalid("expiresInDays");
  return { name, scopes, days };
}

/** Creates the {@link ApiTokenService}. */
export function createApiTokenService(deps: ApiTokenServiceDeps): ApiTokenService {
  const { store, audit, clock, random, regulator } = deps;
  const maxPerUser = deps.maxPerUser ?? DEFAULT_MAX_TOKENS_PER_USER;

  /** A refused token, audited with its public prefix at most — never the secret (TOK-02). */
  async function refused(ctx: CheckContext, reason: string, found: TokenAuth | null, secret: string): Promise<null> {
    await audit.record({
      type: "login_failure",
      userId: found?.user.id ?? null,
      ip: ctx.ip,
      userAgent: ctx.userAgent,
      ...(ctx.requestId ? { requestId: ctx.requestId } : {}),
      details: {
        method: "api_token",
        reason,
        ...(found ? { tokenId: found.token.id } : {}),
        ...(reason !== "malformed" ? { prefix: secret.slice(0, API_TOKEN_PREFIX.length + VISIBLE_RANDOM_CHARS) } : {}),
      },
    });
    return null;
  }

  return {
    async create(user, session, input, origin) {
      deps.requireRecentAuth(session);
      const { name, scopes, days } = checkInput(input);
      if ((await store.countForUser(user.id)) >= maxPerUser) throw new GatehouseError("too_many_tokens");
      const now = clock.now();
      const secret = API_TOKEN_PREFIX + generateToken(random);
      const token: ApiToken = {
        id: random.uuid(),
        userId: user.id,
        name,
        tokenHash: hashToken(secret),
        prefix: secret.slice(0, API_TOKEN_PREFIX.length + VISIBLE_RANDOM_CHARS),
        scopes,
        createdAt: now,
        expiresAt: now + days * DAY,
        lastUsedAt: null,
      };
      await store.insert(token);
      await audit.record({
        type: "api_token_created",
        userId: user.id,
        actorId: user.id,
        details: { tokenId: token.id, prefix: token.prefix, scopes: scopes.join(" "), expiresAt: new Date(token.expiresAt).toISOString() },
        ...origin,
      });
      return { token, secret };
    },

    list: (user, limit, offset) => store.listForUser(user.id, limit, offset),

    get: (user, id) => store.findForUser(user.id, id),

    async revoke(user, id, origin) {
      const token = await store.findForUser(user.id, id);
      if (!token || !(await store.delete(id, user.id))) return false;
      await audit.record({
        type: "api_token_revoked",
        userId: user.id,
        actorId: user.id,
        details: { tokenId: token.id, prefix: token.prefix },
        ...origin,
      });
      return true;
    },

    revokeAllForUser: (userId) => store.deleteAllForUser(userId),

    async authenticate(secret, ctx) {
      if (!isWellFormedApiToken(secret)) {
        // Never looked up, but still counted: probing with junk is throttled like any bad secret.
        await regulator.record(await regulator.admit(ctx, null), false);
        return refused(ctx, "malformed", null, secret);
      }
      const found = await store.findByHash(hashToken(secret));
      const now = clock.now();
      const reason = found === null ? "unknown_token" : found.token.expiresAt <= now ? "expired" : found.user.blocked ? "blocked" : null;
      if (found === null || reason !== null) {
        // A bad token is one failed secret check from this IP: the 11th is 429 (and trips toward a ban).
        await regulator.record(await regulator.admit(ctx, null), false);
        return refused(ctx, reason ?? "unknown_token", found, secret);
      }
      if (found.token.lastUsedAt === null || now - found.token.lastUsedAt >= TOKEN_TOUCH_INTERVAL_MS) {
        await store.touchLastUsed(found.token.id, now);
        return { user: found.user, token: { ...found.token, lastUsedAt: now } };
      }
      return found;
    },
  };
}
