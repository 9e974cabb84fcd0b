import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { generateToken } from "../../src/core/crypto/tokens.js";
import { cryptoRandom, type Random } from "../../src/core/random.js";
import { origin, useSessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

describe("revocation, and the cache never resurrects a revoked session", () => {
  it("revokeToken ends a cached session", async () => {
    const { token, session } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    expect(await fx.svc.validate(token)).not.toBeNull();
    await fx.svc.revokeToken(token);
    expect(await fx.svc.validate(token)).toBeNull();
    expect(await fx.row(session.id)).toBeUndefined();
    await expect(fx.svc.revokeToken(generateToken(cryptoRandom))).resolves.toBeUndefined();
  });

  it("revokeById only ends a session of that owner", async () => {
    const bob = await fx.addUser("bob");
    const { token, session } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    await fx.svc.validate(token);
    expect(await fx.svc.revokeById(bob, session.id)).toBe(false);
    expect(await fx.svc.validate(token)).not.toBeNull();
    expect(await fx.svc.revokeById(fx.alice, session.id)).toBe(true);
    expect(await fx.svc.validate(token)).toBeNull();
    expect(await fx.svc.revokeById(fx.alice, session.id)).toBe(false);
  });

  it("revokeAllForUser ends every cached session but the excepted one, and nobody else's", async () => {
    const bob = await fx.addUser("bob");
    const [a, b, keep] = [await fx.svc.create(fx.alice, origin, false, ["pwd"]), await fx.svc.create(fx.alice, origin, false, ["pwd"]), await fx.svc.create(fx.alice, origin, false, ["pwd"])];
    const bobs = await fx.svc.create(bob, origin, false, ["pwd"]);
    for (const s of [a, b, keep, bobs]) expect(await fx.svc.validate(s.token)).not.toBeNull();
    expect(await fx.svc.revokeAllForUser(fx.alice, keep.session.id)).toBe(2);
    expect(await fx.svc.validate(a.token)).toBeNull();
    expect(await fx.svc.validate(b.token)).toBeNull();
    expect(await fx.svc.validate(keep.token)).not.toBeNull();
    expect(await fx.svc.validate(bobs.token)).not.toBeNull();
    expect(await fx.svc.revokeAllForUser(fx.alice)).toBe(1);
    expect(await fx.svc.validate(keep.token)).toBeNull();
  });

  it("a revocation that lands while a validation is reading the store is not undone by the cache", async () => {
    let reached!: () => void;
    let release!: () => void;
    const readDone = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    let gated = true;
    // The real SQL store, with the first lookup held after it has read its row.
    const store = {
      ...fx.stores.sessions,
      async findWithUser(tokenHash: string) {
        const found = await fx.stores.sessions.findWithUser(tokenHash);
        if (gated) {
          gated = false;
          reached();
          await gate;
        }
        return found;
      },
    };
    const racy = fx.service({}, { store });
    const { token } = await racy.create(fx.alice, origin, false, ["pwd"]);
    const inFlight = racy.validate(token);
    await readDone;
    await racy.revokeToken(token); // logout completes first
    release();
    await inFlight;
    expect(await racy.validate(token)).toBeNull();
  });
});

describe("blocked users", () => {
  it("validate answers null for a blocked user, also once the cache is told", async () => {
    const { token } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    const cached = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    expect(await fx.svc.validate(cached.token)).not.toBeNull();
    await fx.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", fx.alice).execute();
    expect(await fx.svc.validate(token)).toBeNull();
    fx.svc.forgetUser(fx.alice);
    expect(await fx.svc.validate(cached.token)).toBeNull();
  });
});

describe("per-user cap", () => {
  it("evicts the oldest session beyond the cap", async () => {
    const capped = fx.service({ maxPerUser: 3 });
    const issued = [];
    for (let i = 0; i < 4; i++) {
      issued.push(await capped.create(fx.alice, origin, false, ["pwd"]));
      fx.clock.advance(1000);
    }
    expect(await fx.rowCount(fx.alice)).toBe(3);
    expect(await capped.validate(issued[0]!.token)).toBeNull();
    for (const s of issued.slice(1)) expect(await capped.validate(s.token)).not.toBeNull();
  });

  it("never evicts the session it has just issued, even when an older one has the same timestamp", async () => {
    const ids = ["ffffffff-ffff-4fff-bfff-ffffffffffff", "00000000-0000-4000-8000-000000000000"];
    const random: Random = { bytes: (n) => cryptoRandom.bytes(n), uuid: () => ids.shift() ?? randomUUID() };
    const capped = fx.service({ maxPerUser: 1 }, { random });
    const older = await capped.create(fx.alice, origin, false, ["pwd"]);
    const newest = await capped.create(fx.alice, origin, false, ["pwd"]); // same millisecond
    expect(await capped.validate(newest.token)).not.toBeNull();
    expect(await capped.validate(older.token)).toBeNull();
  });
});

describe("malformed tokens", () => {
  it.each([
    ["empty", ""],
    ["42 characters", "a".repeat(42)],
    ["44 characters", "a".repeat(44)],
    ["standard base64", `${"a".repeat(42)}+`],
    ["padding", `${"a".repeat(42)}=`],
    ["a SQL fragment", `' OR '1'='1' --${"a".repeat(28)}`],
  ])("%s → null without a store call", async (_label, token) => {
    const spy = vi.spyOn(fx.stores.sessions, "findWithUser");
    expect(await fx.svc.validate(token)).toBeNull();
    await fx.svc.revokeToken(token);
    expect(spy).not.toHaveBeenCalled();
  });
});

