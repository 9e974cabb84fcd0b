import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/core/audit/audit-event.js";
import { backendNames } from "../helpers/backends.js";
import { openStores, type StoreFixture } from "../helpers/conformance.js";

const T0 = 1_767_225_600_000;

function event(overrides: Partial<AuditEvent>): AuditEvent {
  return {
    id: randomUUID(),
    type: "login_success",
    at: T0,
    userId: null,
    actorId: null,
    ip: "198.51.100.4",
    userAgent: "audit-conformance",
    requestId: null,
    details: {},
    ...overrides,
  };
}

describe.each(backendNames())("AuditStore conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  const alice = randomUUID();
  const bob = randomUUID();
  const events: AuditEvent[] = [
    event({ type: "register", at: T0 + 1, userId: alice, actorId: alice }),
    event({ type: "login_failure", at: T0 + 2, userId: alice, details: { reason: "wrong_password" } }),
    event({ type: "login_success", at: T0 + 3, userId: alice, actorId: alice, details: { method: "password" } }),
    event({ type: "login_failure", at: T0 + 4, userId: bob, details: { reason: "unknown_user" } }),
    event({ type: "login_failure", at: T0 + 5, userId: null, details: { reason: "unknown_user" } }),
    event({ type: "logout", at: T0 + 6, userId: bob, actorId: bob }),
  ];
  const newestFirst = [...events].reverse();

  beforeAll(async () => {
    fx = await openStores(backendName);
    // Appended out of order: listing must sort by time, not by insertion.
    for (const e of [events[3], events[0], events[5], events[1], events[4], events[2]]) await fx.stores.audit.append(e!);
  });
  afterAll(async () => fx?.close());

  it("lists every event newest first", async () => {
    expect(await fx.stores.audit.list({ limit: 100 })).toEqual(newestFirst);
  });

  it("honours the limit, keeping the newest", async () => {
    expect(await fx.stores.audit.list({ limit: 2 })).toEqual(newestFirst.slice(0, 2));
  });

  it("filters by user", async () => {
    expect(await fx.stores.audit.list({ userId: alice, limit: 100 })).toEqual(newestFirst.filter((e) => e.userId === alice));
    expect(await fx.stores.audit.list({ userId: randomUUID(), limit: 100 })).toEqual([]);
  });

  it("filters by type", async () => {
    const failures = await fx.stores.audit.list({ type: "login_failure", limit: 100 });
    expect(failures.map((e) => e.at)).toEqual([T0 + 5, T0 + 4, T0 + 2]);
  });

  it("combines user, type and limit", async () => {
    expect(await fx.stores.audit.list({ userId: alice, type: "login_failure", limit: 1 })).toEqual([events[1]]);
    expect(await fx.stores.audit.list({ userId: bob, type: "login_failure", limit: 10 })).toEqual([events[3]]);
  });

  it("round-trips details as JSON: strings with quotes and unicode, numbers, booleans, null", async () => {
    const details = { reason: 'he said "hi"\n{"role":"admin"}', count: 42, ratio: 0.5, ok: false, none: null, name: "Zoë 🙂" };
    const e = event({ type: "suspicious_activity", at: T0 + 100, userId: randomUUID(), details });
    await fx.stores.audit.append(e);
    const [read] = await fx.stores.audit.list({ userId: e.userId!, limit: 1 });
    expect(read).toEqual(e);
    expect(read?.details).toStrictEqual(details);
  });

  it("orders events with the same timestamp deterministically (by id, descending)", async () => {
    const userId = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) await fx.stores.audit.append(event({ id, at: T0 + 200, userId }));
    const listed = (await fx.stores.audit.list({ userId, limit: 10 })).map((e) => e.id);
    expect(listed).toEqual([...ids].sort().reverse());
  });
});
