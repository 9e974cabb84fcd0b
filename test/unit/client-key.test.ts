import { describe, expect, it } from "vitest";
import { banKeysFor, createClientKey, parseIpv6 } from "../../src/core/rate-limit/client-key.js";

describe("createClientKey: who is one client for limits, regulation and bans", () => {
  const key = createClientKey();

  it("IPv4 is keyed by its address; IPv4-mapped IPv6 by the same IPv4 address", () => {
    expect(key("203.0.113.7")).toBe("203.0.113.7");
    expect(key("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(key("::FFFF:203.0.113.7")).toBe("203.0.113.7");
    expect(key("::ffff:cb00:7107")).toBe("203.0.113.7");
  });

  it("IPv6 is keyed by its /64 in canonical form, whatever the spelling", () => {
    expect(key("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(key("2001:0DB8:0001:0002:ffff:eeee:dddd:cccc")).toBe("2001:db8:1:2::/64");
    expect(key("2001:db8:1:2:0:0:0:9")).toBe("2001:db8:1:2::/64");
    expect(key("fe80::1%eth0")).toBe("fe80::/64");
    expect(key("::1")).toBe("::/64");
    expect(key("2001:db8:0:0:1::")).toBe("2001:db8::/64");
    expect(key("64:ff9b::192.0.2.33")).toBe("64:ff9b::/64");
    expect(key("2001:db8:1:3::1")).not.toBe(key("2001:db8:1:2::1"));
  });

  it("the prefix length is configurable from 32 to 128", () => {
    expect(createClientKey(48)("2001:db8:1:2::1")).toBe("2001:db8:1::/48");
    expect(createClientKey(56)("2001:db8:1:2ff::1")).toBe("2001:db8:1:200::/56");
    expect(createClientKey(32)("2001:db8:1:2::1")).toBe("2001:db8::/32");
    expect(createClientKey(128)("2001:0db8:0:0:0:0:0:0001")).toBe("2001:db8::1");
    expect(createClientKey(128)("::ffff:10.0.0.1")).toBe("10.0.0.1");
    for (const bad of [31, 129, 64.5, Number.NaN]) expect(() => createClientKey(bad)).toThrow(RangeError);
  });

  it("a string that is not an address is its own key", () => {
    expect(key("not-an-ip")).toBe("not-an-ip");
    expect(key("1:2:3")).toBe("1:2:3");
  });

  it("parseIpv6 reads every spelling into eight words, and nothing else", () => {
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6("1.2.3.4")).toBeNull();
    expect(parseIpv6("1:2:3:4:5:6:7:8:9")).toBeNull();
    for (const bad of ["1::2::3", "12345::", "::1.2.3", "::256.1.1.1", "::01.2.3.4", "g::", ":", "1:2:3:4:5:6:7::8:9", "1:2:3:4:5:6:7", ":1::", "1::2:"]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
    expect(parseIpv6("1:2:3:4:5:6:7::")).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIpv6("::2:3:4:5:6:7:8")).toEqual([0, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("banKeysFor: what an admin's lift request may name", () => {
  const key = createClientKey(64);
  it("the listed prefix in any spelling, or any address inside it", () => {
    for (const input of ["2001:db8:1:2::/64", "2001:0db8:1:2:0::/64", "2001:db8:1:2::42", "2001:db8:1:2:aaaa:bbbb:cccc:dddd"]) {
      expect(banKeysFor(input, key)).toContain("2001:db8:1:2::/64");
    }
    expect(banKeysFor("203.0.113.7", key)).toEqual(["203.0.113.7"]);
    // A ban listed under another prefix length (IPV6_PREFIX_LENGTH changed since) is still named by its listing.
    expect(banKeysFor("2001:db8:1::/48", key)).toContain("2001:db8:1::/48");
    expect(banKeysFor("junk/64/1", key)).toEqual(["junk/64/1"]);
  });
});
