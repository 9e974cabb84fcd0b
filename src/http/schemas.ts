/** JSON schemas shared by routes; bodies refuse unknown fields (AZ-04, INP-02). */

/** Bounded string for input fields. */
export const str = (maxLength: number) => ({ type: "string", maxLength }) as const;

/**
 * A password field. Its schema bound is only the body limit: the policy's own
 * maximum (256 code points) is checked by the service before any hashing, so
 * every over-long password gets the same `password_too_long` reason.
 */
export const passwordField = str(65_536);

/** The public `user` object of docs/api.md; `additionalProperties: false` drops anything else on output (AZ-05). */
export const userSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "username", "email", "emailVerified", "role", "blocked", "createdAt", "lastLoginAt", "mfa"],
  properties: {
    id: { type: "string" },
    username: { type: "string" },
    email: { type: ["string", "null"] },
    emailVerified: { type: "boolean" },
    role: { type: "string" },
    blocked: { type: "boolean" },
    createdAt: { type: "string" },
    lastLoginAt: { type: ["string", "null"] },
    mfa: {
      type: "object",
      additionalProperties: false,
      properties: { totp: { type: "boolean" }, passkeys: { type: "integer" } },
    },
  },
} as const;

/** `{user}` response. */
export const userResponse = {
  type: "object",
  additionalProperties: false,
  required: ["user"],
  properties: { user: userSchema },
} as const;

/** A body-less request: refuses any JSON body but an empty object. */
export const emptyBody = { type: ["object", "null"], additionalProperties: false, maxProperties: 0 } as const;

/** `?limit=&page=` pagination; strings because query values are never coerced. */
export const paginationQuery = {
  type: "object",
  additionalProperties: false,
  properties: {
    limit: { type: "string", pattern: "^[0-9]{1,3}$" },
    page: { type: "string", pattern: "^[0-9]{1,6}$" },
  },
} as const;

/** The response of a paginated list: `{<key>: [item…], page, limit}`, extra properties dropped. */
export function pagedResponse<K extends string, I extends object>(key: K, item: I) {
  return {
    type: "object",
    additionalProperties: false,
    properties: { [key]: { type: "array", items: item }, page: { type: "integer" }, limit: { type: "integer" } } as Record<K | "page" | "limit", object>,
  } as const;
}

/** Reads `limit` (default 50, max 200) and `page` (from 1) into a limit and offset. */
export function pagination(query: { limit?: string; page?: string }): { limit: number; offset: number; page: number } {
  const limit = Math.min(200, Math.max(1, Number(query.limit ?? 50)));
  const page = Math.max(1, Number(query.page ?? 1));
  return { limit, offset: (page - 1) * limit, page };
}

/** A lower-case UUID, as Gatehouse makes its ids. */
export const UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

/** Route params `{id}` holding one of Gatehouse's ids (anything else is a 400 before the handler). */
export const idParams = { type: "object", additionalProperties: false, required: ["id"], properties: { id: { type: "string", pattern: UUID_PATTERN } } } as const;

/** A `204 No Content` answer (response schemas of routes that send no body). */
export const noContent = { type: "null", description: "No content." } as const;

/** `{status: "<value>"}`: the answers of 202 routes whose work happens after the answer. */
export const statusResponse = <S extends string>(...values: S[]) =>
  ({ type: "object", additionalProperties: false, required: ["status"], properties: { status: { type: "string", enum: values } } }) as const;

/** An object passed on as built (WebAuthn options, backup summaries): every property kept, none described here. */
export const freeObject = (description: string) => ({ type: "object", additionalProperties: true, description }) as const;

/** The fields of a session as lists show it (the admin's view of a user's sessions; a user's own list adds `current`). */
export const sessionItemProperties = {
  id: { type: "string" },
  createdAt: { type: "string" },
  lastSeenAt: { type: "string" },
  expiresAt: { type: "string" },
  ip: { type: "string" },
  userAgent: { type: "string" },
  aal: { type: "string" },
  amr: { type: "array", items: { type: "string" } },
} as const;
