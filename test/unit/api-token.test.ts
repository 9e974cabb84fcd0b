import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import type { NewAuditEvent } from "../../src/core/audit/audit-event.js";
import { createManualClock } from "../../src/core/clock.js";
import { GatehouseError, isGatehouseError } from "../../src/core/errors.js";
import type { Random } from "../../src/core/random.js";
import type { SecretRegulator } from "../../src/core/rate-limit/secret-regulator.js";
import type { Session } from "../../src/core/sessions/session.js";
import {
  bearerCredential,
  effectiveScopes,
  isWellFormedApiToken,
  tokenAllows,
  tokenStandInSession,
  type ApiToken,
} from "../../src/core/tokens/api-token.js";
import { createApiTokenService } from "../../src/core/tokens/api-token-service.js";
import type { ApiTokenStore } from "../../src/core/tokens/api-token-store.js";
import type { User } from "../../src/core/users/user.js";

const DAY = 86_400_000;
const ctx = { ip: "192.0.2.1", userAgent: "curl/8" };

function user(over: Partial<User> = {}): User {
  return { id: "u1", username: "ann", email: null, emailVerified: false, passwordHash: null, role: "user", blocked: false, createdAt: 0, updatedAt: 0, lastLoginAt: null, ...over };
}

const session = { id: "s1", reauthAt: 0 } as Session;

/** An in-memory store, a counting regulator and a recording audit log around the real service. */
function fixture(owner: User = user()) {
  const clock = createManualClock(Date.UTC(2026, 0, 1));
  const rows = new Map<string, ApiToken>();
  const calls = { lookups: 0, checks: 0, verdicts: [] as boolean[], touches: 0, sudo: 0, drawn: [] as number[] };
  const events: NewAuditEvent[] = [];
  const store: ApiTokenStore = {
    insert: async (t) => void rows.set(t.id, { ...t }),
    findByHash: async (hash) => {
      calls.lookups++;
      const t = [...rows.values()].find((r) => r.tokenHash === hash);
      return t ? { token: { ...t }, user: owner } : null;
    },
    findForUser: async (userId, id) => (rows.get(id)?.userId === userId ? rows.get(id)! : null),
    listForUser: async (userId) => [...rows.values()].filter((r) => r.userId === userId),
    countForUser: async (userId) => [...rows.values()].filter((r) => r.userId === userId).length,
    delete: async (id, userId) => rows.get(id)?.userId === userId && rows.delete(id),
    touchLastUsed: async (id, at) => {
      calls.touches++;
      rows.get(id)!.lastUsedAt = at;
    },
    deleteAllForUser: async () => 0,
  };
  const regulator: SecretRegulator = {
    admit: async (ctx, subject) => {
      calls.checks++;
      return { ctx, subject: typeof subject === "function" ? await subject() : subject, failures: 0 };
    },
    record: async (_admission, verdict) => void calls.verdicts.push(verdict),
    unlock: async () => undefined,
    failures: async () => 0,
  };
  const audit = { record: async (e: NewAuditEvent) => (events.push(e), e) } as unknown as AuditLog;
  let n = 0;
  const random: Random = {
    bytes: (k) => (calls.drawn.push(k), Buffer.alloc(k, ++n)),
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
  };
  const service = createApiTokenService({
    store,
    audit,
    clock,
    random,
    regulator,
    requireRecentAuth: (s) => {
      calls.sudo++;
      if (s.reauthAt === null) throw new GatehouseError("reauth_required");
    },
    maxPerUser: 3,
  });
  return { service, rows, calls, events, clock, owner };
}

describe("API token helpers (TOK-01..03)", () => {
  it("effective scopes are the token's scopes intersected with the owner's current role", () => {
    const all = { scopes: ["read:account", "admin:read", "admin:write"] as ApiToken["scopes"] };
    expect(effectiveScopes(all, "user")).toEqual(["read:account"]);
    expect(effectiveScopes(all, "admin")).toEqual(["read:account", "admin:read", "admin:write"]);
    expect(effectiveScopes(all, "superadmin")).toEqual(["read:account", "admin:read", "admin:write"]);
    expect(tokenAllows({ scopes: ["admin:read"] }, "user", "admin:read")).toBe(false);
    expect(tokenAllows({ scopes: ["admin:read"] }, "admin", "admin:read")).toBe(true);
    expect(tokenAllows({ scopes: ["admin:read"] }, "admin", "admin:write")).toBe(false);
    expect(tokenAllows({ scopes: ["admin:read"] }, "admin", "read:account")).toBe(false);
  });

  it("recognizes issued secrets: gth_ + 43 base64url characters, nothing else", () => {
    const good = `gth_${Buffer.alloc(32, 7).toString("base64url")}`;
    expect(isWellFormedApiToken(good)).toBe(true);
    for (const bad of ["", "gth_", good.slice(4), `${good}x`, good.slice(0, -1), `GTH_${good.slice(4)}`, `gth_${"+".repeat(43)}`, `ghp_${good.slice(4)}`]) {
      expect(isWellFormedApiToken(bad), bad).toBe(false);
    }
  });

  it("reads only the Authorization: Bearer scheme", () => {
    expect(bearerCredential("Bearer abc")).toBe("abc");
    expect(bearerCredential("bearer  abc")).toBe("abc");
    expect(bearerCredential(["Bearer abc", "Bearer def"])).toBe("abc");
    for (const v of [undefined, "", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Token abc", "abc"]) expect(bearerCredential(v), String(v)).toBeNull();
  });

  it("a token's stand-in session has never re-authenticated", () => {
    const t: ApiToken = { id: "t", userId: "u", name: "n", tokenHash: "h", prefix: "gth_x", scopes: [], createdAt: 1, expiresAt: 2, lastUsedAt: null };
    expect(tokenStandInSession(t, ctx).reauthAt).toBeNull();
  });
});

describe("API token service", () => {
  it("creates a 256-bit gth_ secret from the injected Random, stores only its SHA-256, audits id and prefix", async () => {
    const { service, rows, calls, events, clock } = fixture();
    const { token, secret } = await service.create(user(), session, { name: "  ci  ", scopes: ["admin:read", "read:account", "read:account"] }, ctx);
    expect(calls.drawn).toEqual([32]);
    expect(calls.sudo).toBe(1);
    expect(secret).toBe(`gth_${Buffer.alloc(32, 1).toString("base64url")}`);
    expect(token.tokenHash).toBe(createHash("sha256").update(secret).digest("hex"));
    expect(token).toMatchObject({ name: "ci", prefix: secret.slice(0, 12), scopes: ["read:account", "admin:read"], expiresAt: clock.now() + 90 * DAY });
    expect(JSON.stringify([...rows.values()])).not.toContain(secret.slice(4));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "api_token_created", details: { tokenId: token.id, prefix: token.prefix } });
    expect(JSON.stringify(events)).not.toContain(secret.slice(4));
  });

  it("refuses bad input (400), a stale session (reauth_required) and more than the per-user cap (409)", async () => {
    const { service } = fixture();
    const code = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (isGatehouseError(e) ? e.code : String(e)));
    for (const input of [
      { name: "x", scopes: ["nope"] },
      { name: "x", scopes: [] },
      { name: "", scopes: ["read:account"] },
      { name: "x".repeat(101), scopes: ["read:account"] },
      { name: "x", scopes: ["read:account"], expiresInDays: 366 },
      { name: "x", scopes: ["read:account"], expiresInDays: 0 },
    ]) {
      expect(await code(service.create(user(), session, input, ctx)), JSON.stringify(input)).toBe("invalid_request");
    }
    expect(await code(service.create(user(), { ...session, reauthAt: null }, { name: "x", scopes: ["read:account"] }, ctx))).toBe("reauth_required");
    for (let i = 0; i < 3; i++) expect(await code(service.create(user(), session, { name: `t${i}`, scopes: ["read:account"] }, ctx))).toBe("ok");
    expect(await code(service.create(user(), session, { name: "t4", scopes: ["read:account"] }, ctx))).toBe("too_many_tokens");
  });

  it("bad tokens are failed regulator checks (malformed ones without a lookup); unknown/expired/blocked → null; last use at most once a minute", async () => {
    const owner = user();
    const { service, calls, clock, events } = fixture(owner);
    const { secret } = await service.create(owner, session, { name: "x", scopes: ["read:account"], expiresInDays: 1 }, ctx);

    expect(await service.authenticate("gth_nope", ctx)).toBeNull();
    expect(calls).toMatchObject({ lookups: 0, checks: 1 });
    expect(await service.authenticate(`gth_${"A".repeat(43)}`, ctx)).toBeNull();
    expect(calls).toMatchObject({ lookups: 1, checks: 2, verdicts: [false, false] });

    const first = await service.authenticate(secret, ctx);
    expect(first?.token.lastUsedAt).toBe(clock.now());
    // A valid token is not a counted guess (no pessimistic count, no reset of the IP's failures).
    expect(calls.checks).toBe(2);
    expect(calls.touches).toBe(1);
    clock.advance(59_000);
    await service.authenticate(secret, ctx);
    expect(calls.touches).toBe(1);
    clock.advance(1_000);
    await service.authenticate(secret, ctx);
    expect(calls.touches).toBe(2);

    owner.blocked = true;
    expect(await service.authenticate(secret, ctx)).toBeNull();
    owner.blocked = false;
    clock.advance(DAY);
    expect(await service.authenticate(secret, ctx)).toBeNull();
    const reasons = events.filter((e) => e.type === "login_failure").map((e) => e.details?.reason);
    expect(reasons).toEqual(["malformed", "unknown_token", "blocked", "expired"]);
    expect(JSON.stringify(events)).not.toContain(secret.slice(12));
  });

  it("revokes only the owner's tokens", async () => {
    const { service, events } = fixture();
    const { token } = await service.create(user(), session, { name: "x", scopes: ["read:account"] }, ctx);
    expect(await service.revoke(user({ id: "u2" }), token.id, ctx)).toBe(false);
    expect(await service.get(user({ id: "u2" }), token.id)).toBeNull();
    expect(await service.revoke(user(), token.id, ctx)).toBe(true);
    expect(events.map((e) => e.type)).toEqual(["api_token_created", "api_token_revoked"]);
  });
});
