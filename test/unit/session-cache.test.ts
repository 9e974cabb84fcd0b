import { describe, expect, it } from "vitest";
import { createSessionCache, type CachedSession } from "../../src/core/sessions/session-cache.js";

function entry(userId: string, id: string): CachedSession {
  return {
    session: { id, tokenHash: `hash-${id}`, userId, createdAt: 0, lastSeenAt: 0, expiresAt: 1, remember: false, ip: "127.0.0.1", userAgent: "t", reauthAt: null, aal: "aal1", amr: ["pwd"] },
    user: { id: userId, username: userId, email: null, emailVerified: false, passwordHash: null, role: "user", blocked: false, createdAt: 0, updatedAt: 0, lastLoginAt: null },
  };
}

describe("session cache (LRU)", () => {
  it("stores and returns entries by token hash", () => {
    const cache = createSessionCache(10);
    const e = entry("u1", "s1");
    cache.set("h1", e);
    expect(cache.get("h1")).toBe(e);
    expect(cache.get("nope")).toBeUndefined();
    expect(cache.size()).toBe(1);
  });

  it("never holds more than its bound, evicting the least recently set", () => {
    const cache = createSessionCache(3);
    for (let i = 1; i <= 5; i++) cache.set(`h${i}`, entry(`u${i}`, `s${i}`));
    expect(cache.size()).toBe(3);
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.get("h2")).toBeUndefined();
    expect(["h3", "h4", "h5"].every((h) => cache.get(h) !== undefined)).toBe(true);
  });

  it("a get refreshes recency, so the entry read last survives eviction", () => {
    const cache = createSessionCache(2);
    cache.set("h1", entry("u", "s1"));
    cache.set("h2", entry("u", "s2"));
    cache.get("h1");
    cache.set("h3", entry("u", "s3"));
    expect(cache.get("h1")).toBeDefined();
    expect(cache.get("h2")).toBeUndefined();
  });

  it("replacing an entry does not grow the cache", () => {
    const cache = createSessionCache(5);
    cache.set("h1", entry("u", "s1"));
    const newer = entry("u", "s1");
    cache.set("h1", newer);
    expect(cache.size()).toBe(1);
    expect(cache.get("h1")).toBe(newer);
  });

  it("deleteSession drops one entry only", () => {
    const cache = createSessionCache(5);
    cache.set("h1", entry("u", "s1"));
    cache.set("h2", entry("u", "s2"));
    cache.deleteSession("h1");
    cache.deleteSession("unknown");
    expect(cache.get("h1")).toBeUndefined();
    expect(cache.get("h2")).toBeDefined();
    expect(cache.size()).toBe(1);
  });

  it("deleteUser drops every entry of that user and no one else's", () => {
    const cache = createSessionCache(10);
    cache.set("a1", entry("alice", "a1"));
    cache.set("b1", entry("bob", "b1"));
    cache.set("a2", entry("alice", "a2"));
    cache.set("a3", entry("alice", "a3"));
    cache.deleteUser("alice");
    expect(cache.size()).toBe(1);
    expect(["a1", "a2", "a3"].map((h) => cache.get(h))).toEqual([undefined, undefined, undefined]);
    expect(cache.get("b1")).toBeDefined();
    cache.deleteUser("nobody");
    expect(cache.size()).toBe(1);
  });

  it("deleteUser still finds a user's entries after others were evicted or deleted", () => {
    const cache = createSessionCache(3);
    cache.set("a1", entry("alice", "a1"));
    cache.set("b1", entry("bob", "b1"));
    cache.set("a2", entry("alice", "a2"));
    cache.set("b2", entry("bob", "b2")); // evicts a1
    cache.deleteSession("a2");
    cache.set("a3", entry("alice", "a3"));
    cache.deleteUser("alice");
    expect(cache.get("a3")).toBeUndefined();
    expect(cache.size()).toBe(2);
  });

  it("re-keying a token hash to another user moves it out of the first user's index", () => {
    const cache = createSessionCache(5);
    cache.set("h", entry("alice", "s"));
    const bobs = entry("bob", "s");
    cache.set("h", bobs);
    cache.deleteUser("alice");
    expect(cache.get("h")).toBe(bobs);
    cache.deleteUser("bob");
    expect(cache.get("h")).toBeUndefined();
  });

  it("defaults to a bound of 10,000 entries", () => {
    const cache = createSessionCache();
    for (let i = 0; i < 10_050; i++) cache.set(`h${i}`, entry(`u${i % 7}`, `s${i}`));
    expect(cache.size()).toBe(10_000);
    expect(cache.get("h49")).toBeUndefined();
    expect(cache.get("h50")).toBeDefined();
  });
});
