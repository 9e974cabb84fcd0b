import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/core/audit/audit-event.js";
import type { User } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;

describe.each(backendNames())("admin user list and dashboard counts: store conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  // 30 users, one per second, so newest first is u29 … u00; every third is an admin, every fifth blocked.
  const names = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, "0")}`);
  beforeAll(async () => {
    fx = await openStores(backendName);
    for (const [i, name] of names.entries()) {
      await fx.stores.users.insert(newUser(name, { createdAt: T0 + i * 1000, role: i % 3 === 0 ? "admin" : "user" }));
    }
    // Two users created in the same millisecond: the id breaks the tie, so no row is skipped or repeated.
    await fx.stores.users.insert(newUser("twin-a", { createdAt: T0 + 100_000 }));
    await fx.stores.users.insert(newUser("twin-b", { createdAt: T0 + 100_000 }));
    // Prefix search sees wildcards literally and matches emails too.
    await fx.stores.users.insert(newUser("per%cent", { createdAt: T0 - 5000, email: "Zed@Other.test", emailNormalized: "zed@other.test" }));
    await fx.stores.users.insert(newUser("under_score", { createdAt: T0 - 6000 }));
    for (const [i, name] of names.entries()) {
      if (i % 5 !== 0) continue;
      const user = await fx.stores.users.findByLogin({ username: name });
      await fx.stores.users.update(user!.id, { blocked: true }, T0);
    }
  });
  afterAll(async () => fx?.close());

  async function walk(filter: { q?: string; role?: "user" | "admin"; blocked?: boolean }, limit: number): Promise<string[]> {
    const seen: string[] = [];
    let page: User[] = await fx.stores.users.list({ ...filter, limit });
    while (page.length > 0) {
      seen.push(...page.map((u) => u.username));
      const last = page.at(-1)!;
      page = await fx.stores.users.list({ ...filter, limit, after: { createdAt: last.createdAt, id: last.id } });
    }
    return seen;
  }

  it("pages through every user newest first with a keyset cursor, each exactly once (ties broken by id)", async () => {
    const all = await walk({}, 7);
    expect(all).toHaveLength(34);
    expect(new Set(all).size).toBe(34);
    expect(all.slice(0, 2).sort()).toEqual(["twin-a", "twin-b"]);
    expect(all.slice(2, 5)).toEqual(["u29", "u28", "u27"]);
    expect(all.slice(-2)).toEqual(["per%cent", "under_score"]);
    expect(await fx.stores.users.countMatching({})).toBe(34);
  });

  it("pages backwards with `before` and still answers newest first", async () => {
    const first = await fx.stores.users.list({ limit: 10 });
    const second = await fx.stores.users.list({ limit: 10, after: { createdAt: first[9]!.createdAt, id: first[9]!.id } });
    const back = await fx.stores.users.list({ limit: 10, before: { createdAt: second[0]!.createdAt, id: second[0]!.id } });
    expect(back.map((u) => u.id)).toEqual(first.map((u) => u.id));
  });

  it("filters by role and blocked, with matching totals", async () => {
    const admins = await walk({ role: "admin" }, 4);
    expect(admins).toEqual(names.filter((_, i) => i % 3 === 0).reverse());
    expect(await fx.stores.users.countMatching({ role: "admin" })).toBe(10);
    const blocked = await walk({ blocked: true }, 4);
    expect(blocked).toEqual(names.filter((_, i) => i % 5 === 0).reverse());
    expect(await fx.stores.users.countMatching({ blocked: true, role: "admin" })).toBe(2);
    expect(await fx.stores.users.countMatching({ blocked: false })).toBe(34 - 6);
  });

  it("searches by username or email prefix, case-insensitively, with LIKE wildcards taken literally", async () => {
    expect(await walk({ q: "U2" }, 50)).toEqual(["u29", "u28", "u27", "u26", "u25", "u24", "u23", "u22", "u21", "u20"]);
    expect(await walk({ q: "u2", role: "admin" }, 50)).toEqual(["u27", "u24", "u21"]);
    expect(await fx.stores.users.countMatching({ q: "u2" })).toBe(10);
    expect(await walk({ q: "per%" }, 50)).toEqual(["per%cent"]);
    expect(await walk({ q: "per_" }, 50)).toEqual([]);
    expect(await walk({ q: "u%" }, 50)).toEqual([]);
    expect(await walk({ q: "under_" }, 50)).toEqual(["under_score"]);
    expect(await walk({ q: "zed@OTHER" }, 50)).toEqual(["per%cent"]);
    expect(await walk({ q: "  twin-" }, 50)).toHaveLength(2);
    // A prefix, not a substring: the middle of a name does not match.
    expect(await walk({ q: "29" }, 50)).toEqual([]);
    expect(await walk({ q: "'; drop table users; --" }, 50)).toEqual([]);
    expect(await walk({ q: "\u{10FFFF}" }, 50)).toEqual([]);
  });

  it("counts audit events of a type since a time, and names the users of recent events once each", async () => {
    const event = (type: AuditEvent["type"], at: number, userId: string | null): AuditEvent => ({
      id: randomUUID(),
      type,
      at,
      userId,
      actorId: null,
      ip: "192.0.2.1",
      userAgent: "ua",
      requestId: null,
      details: {},
    });
    const a = randomUUID();
    const b = randomUUID();
    for (const e of [
      event("login_failure", T0 - 1, a),
      event("login_failure", T0, a),
      event("login_failure", T0 + 5, null),
      event("login_success", T0 + 6, a),
      event("account_locked", T0 + 10, a),
      event("account_locked", T0 + 20, b),
      event("account_locked", T0 + 30, a),
      event("account_locked", T0 - 10, randomUUID()),
    ]) {
      await fx.stores.audit.append(e);
    }
    expect(await fx.stores.audit.countSince("login_failure", T0)).toBe(2);
    expect(await fx.stores.audit.countSince("login_failure", T0 + 100)).toBe(0);
    expect(await fx.stores.audit.userIdsSince("account_locked", T0, 10)).toEqual([a, b]);
    expect(await fx.stores.audit.userIdsSince("account_locked", T0, 1)).toEqual([a]);
  });

  it("counts per hour from the (type, at) index when given an end, exactly like the grouped count", async () => {
    const H = 3_600_000;
    const base = Math.floor(T0 / H) * H + 1000 * H;
    const at = [base - 1, base, base + 5, base + H - 1, base + H, base + 3 * H + 7, base + 3 * H + 8, base + 30 * H];
    for (const [i, t] of at.entries()) {
      await fx.stores.audit.append({ id: randomUUID(), type: i % 3 === 0 ? "mfa_failure" : "password_change", at: t, userId: null, actorId: null, ip: "192.0.2.2", userAgent: "ua", requestId: null, details: {} });
    }
    const types = ["password_change", "mfa_failure"];
    const sort = (rows: { type: string; hour: number; count: number }[]) => [...rows].sort((a, b) => a.hour - b.hour || a.type.localeCompare(b.type));
    const grouped = sort(await fx.stores.audit.countByHour(types, base));
    const hourly = sort(await fx.stores.audit.countByHour(types, base, base + 40 * H));
    expect(hourly).toEqual(grouped);
    expect(hourly).toEqual([
      { type: "mfa_failure", hour: base, count: 1 },
      { type: "password_change", hour: base, count: 2 },
      { type: "password_change", hour: base + H, count: 1 },
      { type: "mfa_failure", hour: base + 3 * H, count: 1 },
      { type: "password_change", hour: base + 3 * H, count: 1 },
      { type: "password_change", hour: base + 30 * H, count: 1 },
    ]);
    // A start inside an hour counts only from there; the end bounds the hours listed.
    expect(sort(await fx.stores.audit.countByHour(types, base + 3, base + 2 * H))).toEqual([
      { type: "mfa_failure", hour: base, count: 1 },
      { type: "password_change", hour: base, count: 1 },
      { type: "password_change", hour: base + H, count: 1 },
    ]);
  });

  it("a broad prefix (thousands of matches) pages and counts the same as a narrow one, and a capped count stops at the cap", async () => {
    const rows = Array.from({ length: 2100 }, (_, i) => {
      const name = `bulk${String(i).padStart(5, "0")}`;
      return {
        id: randomUUID(),
        username: name,
        username_normalized: name,
        email: null,
        email_normalized: null,
        email_verified: 0,
        password_hash: null,
        role: "user",
        blocked: i % 7 === 0 ? 1 : 0,
        created_at: T0 + 200_000 + i,
        updated_at: T0,
        last_login_at: null,
      };
    });
    for (let i = 0; i < rows.length; i += 500) await fx.database.db.insertInto("users").values(rows.slice(i, i + 500)).execute();
    expect(await fx.stores.users.countMatching({ q: "bulk" })).toBe(2100);
    expect(await fx.stores.users.countMatching({ q: "bulk" }, 1000)).toBe(1000);
    expect(await fx.stores.users.countMatching({ q: "bulk001" }, 1000)).toBe(100);
    const broad = await walk({ q: "bulk" }, 400);
    expect(broad).toEqual(rows.map((r) => r.username).reverse());
    expect(await walk({ q: "bulk", blocked: true }, 100)).toEqual(rows.filter((r) => r.blocked === 1).map((r) => r.username).reverse());
    expect(await walk({ q: "bulk002" }, 30)).toEqual(rows.slice(200, 300).map((r) => r.username).reverse());
  });
});
