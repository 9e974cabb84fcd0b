import { atLeast } from "../rbac/permissions.js";
import type { Session } from "../sessions/session.js";
import type { Role } from "../users/user.js";

/** The scopes an API token may carry; nothing else is ever granted to a token. */
export const TOKEN_SCOPES = ["read:account", "admin:read", "admin:write"] as const;

/** One API-token scope. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

/** The recognizable prefix of every API-token secret (aids secret scanning, TOK-01). */
export const API_TOKEN_PREFIX = "gth_";

/** Characters of the random part kept (with the prefix) as the token's public prefix, e.g. `gth_Ab3dEf9h`. */
export const VISIBLE_RANDOM_CHARS = 8;

/** A personal API token as stored: the secret itself never is, only its SHA-256. */
export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** SHA-256 of the whole secret (prefix included), hex. */
  tokenHash: string;
  /** `gth_` and the first characters of the random part: shown in lists and logs, never enough to use. */
  prefix: string;
  scopes: TokenScope[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
}

/** True when `value` is one of {@link TOKEN_SCOPES}. */
export function isTokenScope(value: unknown): value is TokenScope {
  return typeof value === "string" && (TOKEN_SCOPES as readonly string[]).includes(value);
}

/** The least role a scope needs: a token never grants more than its owner currently holds (TOK-03). */
const SCOPE_ROLE: Record<TokenScope, Role> = {
  "read:account": "user",
  "admin:read": "admin",
  "admin:write": "admin",
};

/**
 * Effective rights: the token's scopes intersected with its owner's current
 * role. An admin token whose owner was demoted keeps only `read:account`.
 */
export function effectiveScopes(token: Pick<ApiToken, "scopes">, role: Role): TokenScope[] {
  return token.scopes.filter((scope) => atLeast(role, SCOPE_ROLE[scope]));
}

/** True when the token, held by a user of `role`, may act with `scope` now. */
export function tokenAllows(token: Pick<ApiToken, "scopes">, role: Role, scope: TokenScope): boolean {
  return effectiveScopes(token, role).includes(scope);
}

/** True when `value` has the shape of an issued secret: `gth_` + 43 base64url characters. */
export function isWellFormedApiToken(value: string): boolean {
  if (value.length !== API_TOKEN_PREFIX.length + 43 || !value.startsWith(API_TOKEN_PREFIX)) return false;
  for (let i = API_TOKEN_PREFIX.length; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

/**
 * The credential of an `Authorization: Bearer <token>` header value, or null.
 * The scheme is case-insensitive (RFC 9110 §11.1); tokens are only ever read
 * from this header, never from the URL or a body (SESS-05, TOK-02).
 */
export function bearerCredential(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== "string") return null;
  const match = /^Bearer +([^\s]+) *$/i.exec(value);
  return match?.[1] ?? null;
}

/**
 * The session stand-in of a token-authenticated request, so code written for
 * sessions sees the owner and nothing more. It has never re-authenticated
 * (`reauthAt: null`), so every sudo-gated action stays out of a token's reach
 * even if a route forgot to refuse tokens. It proved no sign-in method
 * (`amr` empty) and carries the lowest assurance.
 */
export function tokenStandInSession(token: ApiToken, origin: { ip: string; userAgent: string }): Session {
  return {
    id: token.id,
    tokenHash: token.tokenHash,
    userId: token.userId,
    createdAt: token.createdAt,
    lastSeenAt: token.lastUsedAt ?? token.createdAt,
    expiresAt: token.expiresAt,
    remember: false,
    ip: origin.ip,
    userAgent: origin.userAgent.slice(0, 512),
    reauthAt: null,
    aal: "aal1",
    amr: [],
  };
}
