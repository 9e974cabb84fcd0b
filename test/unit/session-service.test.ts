import { describe, expect, it } from "vitest";
import { hashToken } from "../../src/core/crypto/tokens.js";
import { createSessionCache } from "../../src/core/sessions/session-cache.js";
import { DAY, HOUR, MIN, origin, useSessionFixture } from "../helpers/session-fixture.js";

const fx = useSessionFixture();

describe("create (SESS-01, SESS-02)", () => {
  it("issues a 43-character token and stores only its SHA-256", async () => {
    const { token, session } = await fx.svc.create(fx.alice, { ip: "198.51.100.1", userAgent: "U".repeat(2000) }, false, ["pwd"]);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await fx.row(session.id);
    expect(stored).toMatchObject({ token_hash: hashToken(token), user_id: fx.alice, remember: 0, ip: "198.51.100.1" });
    expect(Object.values(stored!)).not.toContain(token);
    expect(stored!.user_agent).toHaveLength(512);
    expect(stored!.expires_at).toBe(fx.clock.now() + 12 * HOUR);
  });
});

describe("idle and absolute expiry (SESS-06, SESS-07)", () => {
  it("is valid 29 min after the last activity, and ends 31 min after it, deleting the row", async () => {
    const { token, session } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(29 * MIN);
    expect((await fx.svc.validate(token))?.user.id).toBe(fx.alice);
    fx.clock.advance(31 * MIN);
    expect(await fx.svc.validate(token)).toBeNull();
    expect(await fx.row(session.id)).toBeUndefined();
  });

  it("ends after 31 min without any activity", async () => {
    const { token } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(31 * MIN);
    expect(await fx.svc.validate(token)).toBeNull();
  });

  it("ends at 12 h even with activity every 10 min", async () => {
    const { token, session } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    for (let elapsed = 10; elapsed < 12 * 60; elapsed += 10) {
      fx.clock.advance(10 * MIN);
      expect(await fx.svc.validate(token), `at +${elapsed} min`).not.toBeNull();
    }
    fx.clock.advance(11 * MIN); // 12 h 01 min
    expect(await fx.svc.validate(token)).toBeNull();
    expect(await fx.row(session.id)).toBeUndefined();
  });

  it("a remember-me session has no idle timeout but ends after 30 days, whatever the activity", async () => {
    const { token, session } = await fx.svc.create(fx.alice, origin, true, ["pwd"]);
    expect(session.expiresAt).toBe(fx.clock.now() + 30 * DAY);
    fx.clock.advance(29 * DAY + 23 * HOUR);
    expect(await fx.svc.validate(token)).not.toBeNull();
    fx.clock.advance(59 * MIN);
    expect(await fx.svc.validate(token)).not.toBeNull();
    fx.clock.advance(2 * MIN);
    expect(await fx.svc.validate(token)).toBeNull();
  });
});

describe("last-seen writes", () => {
  it("writes last_seen_at at most once per minute", async () => {
    const t0 = fx.clock.now();
    const { token, session } = await fx.svc.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(30_000);
    expect((await fx.svc.validate(token))?.session.lastSeenAt).toBe(t0);
    expect((await fx.row(session.id))?.last_seen_at).toBe(t0);
    fx.clock.advance(31_000);
    expect((await fx.svc.validate(token))?.session.lastSeenAt).toBe(t0 + 61_000);
    expect((await fx.row(session.id))?.last_seen_at).toBe(t0 + 61_000);
    fx.clock.advance(59_000);
    await fx.svc.validate(token);
    expect((await fx.row(session.id))?.last_seen_at).toBe(t0 + 61_000);
    fx.clock.advance(1_000);
    await fx.svc.validate(token);
    expect((await fx.row(session.id))?.last_seen_at).toBe(t0 + 121_000);
  });
});

describe("rotate (SESS-04)", () => {
  it("kills the old token and issues a new one, keeping remember-me", async () => {
    const old = await fx.svc.create(fx.alice, origin, true, ["pwd"]);
    const current = (await fx.svc.validate(old.token))!.session;
    const next = await fx.svc.rotate(current, { ip: "198.51.100.2", userAgent: "new" });
    expect(next.token).not.toBe(old.token);
    expect(next.session.id).not.toBe(old.session.id);
    expect(next.session.remember).toBe(true);
    expect(await fx.svc.validate(old.token)).toBeNull();
    expect(await fx.row(old.session.id)).toBeUndefined();
    expect((await fx.svc.validate(next.token))?.session.id).toBe(next.session.id);
  });
});

describe("purgeExpired", () => {
  it("deletes idle and absolute-expired rows only", async () => {
    const short = fx.service({ absoluteMs: 2 * HOUR });
    const t0 = fx.clock.now();
    const idle = await short.create(fx.alice, origin, false, ["pwd"]);
    const remembered = await short.create(fx.alice, origin, true, ["pwd"]);
    const absolute = await short.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.set(t0 + HOUR);
    const live = await short.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.set(t0);
    for (let t = 10; t <= 110; t += 10) {
      fx.clock.advance(10 * MIN);
      await short.validate(absolute.token);
      if (t >= 60) await short.validate(live.token);
    }
    fx.clock.advance(11 * MIN); // 2 h 01: `absolute` is past its lifetime but was seen 11 min ago
    expect(await short.purgeExpired()).toBe(2);
    expect(await fx.row(idle.session.id)).toBeUndefined();
    expect(await fx.row(absolute.session.id)).toBeUndefined();
    expect(await fx.row(remembered.session.id)).toBeDefined();
    expect(await fx.row(live.session.id)).toBeDefined();
    expect(await short.purgeExpired()).toBe(0);
  });
});

describe("the synchronous check without a cache (every check reads the store)", () => {
  it("answers from SQLite with no promise, and a revocation or a block is refused by the very next check", async () => {
    const svc = fx.service({}, { cache: createSessionCache(0) });
    const a = await svc.create(fx.alice, origin, false, ["pwd"]);
    const b = await svc.create(fx.alice, origin, false, ["pwd"]);
    expect(svc.validateCached(a.token)?.user.id).toBe(fx.alice);
    expect(svc.validateCached(b.token)?.session.id).toBe(b.session.id);
    await fx.stores.sessions.delete(a.session.id); // behind the service's back: no cache to drop
    expect(svc.validateCached(a.token)).toBeNull();
    await fx.stores.users.update(fx.alice, { blocked: true }, fx.clock.now());
    expect(svc.validateCached(b.token)).toBeNull();
    expect(await svc.validate(b.token)).toBeNull();
  });

  it("leaves the last-seen write and expiry to validate, which still does them", async () => {
    const svc = fx.service({}, { cache: createSessionCache(0) });
    const { token, session } = await svc.create(fx.alice, origin, false, ["pwd"]);
    fx.clock.advance(2 * MIN);
    expect(svc.validateCached(token)).toBeUndefined();
    expect((await svc.validate(token))?.session.lastSeenAt).toBe(fx.clock.now());
    expect((await fx.row(session.id))?.last_seen_at).toBe(fx.clock.now());
    expect(svc.validateCached(token)?.session.id).toBe(session.id);
    fx.clock.advance(31 * MIN);
    expect(svc.validateCached(token)).toBeUndefined();
    expect(await svc.validate(token)).toBeNull();
    expect(await fx.row(session.id)).toBeUndefined();
  });

  it("defers to validate when the store has no synchronous read", async () => {
    const { findWithUserNow: _unused, ...asyncOnly } = fx.stores.sessions;
    const svc = fx.service({}, { cache: createSessionCache(0), store: asyncOnly });
    const { token } = await svc.create(fx.alice, origin, false, ["pwd"]);
    expect(svc.validateCached(token)).toBeUndefined();
    expect((await svc.validate(token))?.user.id).toBe(fx.alice);
  });
});
