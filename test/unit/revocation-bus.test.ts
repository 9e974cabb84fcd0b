import { describe, expect, it } from "vitest";
import { createSessionCache, type CachedSession, type SessionInvalidation } from "../../src/core/sessions/session-cache.js";
import {
  createPropagatingSessionCache,
  encodeRevocationNotice,
  parseRevocationNotice,
  type RevocationBus,
  type RevocationNotice,
} from "../../src/core/sessions/revocation-bus.js";

function entry(userId: string, id: string): CachedSession {
  return {
    session: { id, tokenHash: `hash-${id}`, userId, createdAt: 0, lastSeenAt: 0, expiresAt: 1, remember: false, ip: "127.0.0.1", userAgent: "t", reauthAt: null, aal: "aal1", amr: ["pwd"] },
    user: { id: userId, username: userId, email: null, emailVerified: false, passwordHash: null, role: "user", blocked: false, createdAt: 0, updatedAt: 0, lastLoginAt: null },
  };
}

/** An in-memory channel every subscriber hears (the publisher included, like Redis and NOTIFY), which can be cut and restored. */
function fakeChannel() {
  const buses: { handlers: ((n: RevocationNotice) => void)[]; reconnect: (() => void)[]; connected: boolean }[] = [];
  const sent: RevocationNotice[] = [];
  return {
    sent,
    bus(): RevocationBus & { drop(): void; restore(): void } {
      const me = { handlers: [] as ((n: RevocationNotice) => void)[], reconnect: [] as (() => void)[], connected: true };
      buses.push(me);
      return {
        async publish(notice) {
          sent.push(notice);
          // Through the wire format, as the real buses do.
          const text = encodeRevocationNotice(notice);
          for (const b of buses) if (b.connected) for (const h of b.handlers) h(parseRevocationNotice(text)!);
        },
        subscribe: (h) => void me.handlers.push(h),
        onReconnect: (h) => void me.reconnect.push(h),
        close: async () => void (me.connected = false),
        drop: () => void (me.connected = false),
        restore() {
          me.connected = true;
          for (const h of me.reconnect) h();
        },
      };
    },
  };
}

function instance(channel: ReturnType<typeof fakeChannel>, instanceId: string) {
  const local = createSessionCache(100);
  const bus = channel.bus();
  const errors: unknown[] = [];
  const cache = createPropagatingSessionCache({ cache: local, bus, instanceId, onPublishError: (err) => errors.push(err) });
  return { local, cache, bus, errors };
}

const flush = () => new Promise((r) => setImmediate(r));

describe("revocation notices", () => {
  it("round-trip through their wire format", () => {
    for (const message of [{ kind: "session", tokenHash: "abc" }, { kind: "user", userId: "u1" }, { kind: "all" }] as const) {
      expect(parseRevocationNotice(encodeRevocationNotice({ from: "i1", message }))).toEqual({ from: "i1", message });
    }
  });

  it("anything else on the channel is ignored", () => {
    for (const text of ["", "null", "[]", "{}", '{"from":"i","message":{"kind":"nope"}}', '{"from":"i","message":{"kind":"session"}}', '{"from":"","message":{"kind":"all"}}', `{"from":"i","message":{"kind":"user","userId":"${"x".repeat(300)}"}}`, "not json"]) {
      expect(parseRevocationNotice(text)).toBeNull();
    }
  });
});

describe("propagating session cache", () => {
  it("every revocation made here is dropped here and on every other instance, never sent back", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    const b = instance(channel, "B");
    for (const c of [a.cache, b.cache]) {
      c.set("h1", entry("u1", "s1"));
      c.set("h2", entry("u1", "s2"));
      c.set("h3", entry("u2", "s3"));
      c.set("h4", entry("u3", "s4"));
    }
    a.cache.deleteSession("h1");
    await flush();
    expect(b.cache.get("h1")).toBeUndefined();
    expect(b.cache.get("h2")).toBeDefined();
    a.cache.deleteUser("u1");
    await flush();
    expect(b.cache.get("h2")).toBeUndefined();
    expect(b.cache.get("h3")).toBeDefined();
    b.cache.clear();
    await flush();
    expect(a.cache.size()).toBe(0);
    // One notice per revocation: applying a received notice publishes nothing.
    expect(channel.sent.map((n) => [n.from, n.message.kind])).toEqual([
      ["A", "session"],
      ["A", "user"],
      ["B", "all"],
    ]);
  });

  it("its own echo is dropped: an entry cached again after a revocation survives the echo", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    let echoes = 0;
    a.local.onInvalidate(() => echoes++);
    a.cache.deleteSession("h1");
    a.cache.set("h1", entry("u1", "s1"));
    await flush();
    expect(a.cache.get("h1")).toBeDefined();
    expect(echoes).toBe(1);
  });

  it("a local clean-up (evict) stays local", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    const b = instance(channel, "B");
    b.cache.set("h1", entry("u1", "s1"));
    a.cache.evict("h1");
    await flush();
    expect(channel.sent).toHaveLength(0);
    expect(b.cache.get("h1")).toBeDefined();
  });

  it("a received notice bumps the generation, so a lookup in flight on that instance cannot write the entry back", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    const b = instance(channel, "B");
    const before = b.cache.generation();
    a.cache.deleteSession("h1");
    await flush();
    expect(b.cache.generation()).toBeGreaterThan(before);
  });

  it("a (re)subscription flushes the whole local cache: notices sent while disconnected are lost", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    const b = instance(channel, "B");
    b.cache.set("h1", entry("u1", "s1"));
    b.cache.set("h2", entry("u2", "s2"));
    b.bus.drop();
    a.cache.deleteSession("h1");
    await flush();
    expect(b.cache.get("h1")).toBeDefined();
    b.bus.restore();
    expect(b.cache.size()).toBe(0);
  });

  it("listeners hear local and received invalidations alike (open WebSockets are re-checked from them)", async () => {
    const channel = fakeChannel();
    const a = instance(channel, "A");
    const b = instance(channel, "B");
    const heard: SessionInvalidation[] = [];
    const stop = b.cache.onInvalidate((i) => heard.push(i));
    a.cache.deleteUser("u9");
    b.cache.deleteSession("h9");
    await flush();
    stop();
    a.cache.clear();
    await flush();
    expect(heard).toEqual([
      { kind: "user", userId: "u9" },
      { kind: "session", tokenHash: "h9" },
    ]);
  });

  it("a failed publish is reported, and the local revocation stands", async () => {
    const local = createSessionCache(10);
    const errors: unknown[] = [];
    const bus: RevocationBus = {
      publish: () => Promise.reject(new Error("down")),
      subscribe: () => undefined,
      onReconnect: () => undefined,
      close: async () => undefined,
    };
    const cache = createPropagatingSessionCache({ cache: local, bus, instanceId: "A", onPublishError: (err) => errors.push(err) });
    cache.set("h1", entry("u1", "s1"));
    cache.deleteSession("h1");
    await flush();
    expect(cache.get("h1")).toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
