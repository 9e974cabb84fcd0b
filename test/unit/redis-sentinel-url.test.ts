import { describe, expect, it } from "vitest";
import { describeRedisUrl, isSentinelUrl, parseSentinelUrl, redisUrlHosts } from "../../src/storage/redis/redis-url.js";

describe("REDIS_URL's sentinel form (redis-sentinel://…)", () => {
  it("reads the sentinels (26379 by default), the primary's name, its credentials and the sentinels' own", () => {
    expect(parseSentinelUrl("redis-sentinel://10.0.0.1:26380,sentinel-b,[::1]:26381/mymaster")).toEqual({
      sentinels: [
        { host: "10.0.0.1", port: 26380 },
        { host: "sentinel-b", port: 26379 },
        { host: "::1", port: 26381 },
      ],
      name: "mymaster",
      db: 0,
    });
    expect(parseSentinelUrl("redis-sentinel://gate:p%40ss@s1:26379/main?db=2&sentinelPassword=s%26p&sentinelUsername=watch")).toEqual({
      sentinels: [{ host: "s1", port: 26379 }],
      name: "main",
      username: "gate",
      password: "p@ss",
      sentinelUsername: "watch",
      sentinelPassword: "s&p",
      db: 2,
    });
    expect(parseSentinelUrl("redis-sentinel://:only-a-password@s1/main")).toMatchObject({ password: "only-a-password" });
    expect(parseSentinelUrl("redis-sentinel://:only-a-password@s1/main").username).toBeUndefined();
  });

  it("refuses what it cannot read, without echoing a password", () => {
    for (const bad of [
      "redis-sentinel://s1:26379",
      "redis-sentinel://s1:26379/",
      "redis-sentinel://s1:99999/main",
      "redis-sentinel://s1:26379/main?tls=true",
      "redis-sentinel://s1:26379/main?db=x",
      "redis-sentinel:///main",
    ]) {
      expect(() => parseSentinelUrl(bad), bad).toThrow(/REDIS_URL/);
    }
    try {
      parseSentinelUrl("redis-sentinel://:hunter2secret@s1:26379/main?db=x");
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2secret");
    }
  });

  it("is told apart from redis:// and rediss://, and described without credentials", () => {
    expect(isSentinelUrl("redis-sentinel://s1/main")).toBe(true);
    expect(isSentinelUrl("redis://127.0.0.1:6379")).toBe(false);
    expect(describeRedisUrl("redis-sentinel://:pw@s1,s2:26380/main")).toBe("redis-sentinel://s1:26379,s2:26380/main");
    expect(describeRedisUrl("redis://:pw@127.0.0.1:6379/0")).toBe("redis://127.0.0.1:6379");
    expect(redisUrlHosts("redis-sentinel://s1,10.0.0.2:26380/main")).toEqual(["s1", "10.0.0.2"]);
    expect(redisUrlHosts("rediss://cache.example.com:6380")).toEqual(["cache.example.com"]);
  });
});
