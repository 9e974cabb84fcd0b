import { afterEach, describe, expect, it } from "vitest";
import { backendNames, limiterBackendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { BEHIND_PROXY, fromIp, loginAs, protectionEnv, retryAfter } from "../helpers/protection.js";
import { expectErrorBody, uname } from "../helpers/attacks.js";

const WRONG = "wrong-guess-password-1";

let netSeq = 0;
/** A /64 no other test uses, and `n` addresses inside it (what one host gets from its provider and may rotate through). */
function freshNetwork(n: number): { prefix: string; addresses: string[] } {
  netSeq += 1;
  const base = `2001:db8:${(process.pid & 0xfff).toString(16)}:${netSeq.toString(16)}`;
  return {
    prefix: `${base}::/64`,
    addresses: Array.from({ length: n }, (_, i) => `${base}:${((0x1000 + i * 7919) & 0xffff).toString(16)}:${i.toString(16)}:ffff:${(i * 31 + 1).toString(16)}`),
  };
}

/** Every abuse protection keyed per client, on each database and limiter store (docs/security-model.md "Who is one client"). */
describe.each(backendNames().flatMap((db) => limiterBackendNames().map((limiter) => [db, limiter] as const)))("attack: IPv6 rotation (%s, %s limiter)", (db, limiter) => {
  const open: Harness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  const start = async (extra: Record<string, string> = {}) => {
    const h = await startHarness(db, protectionEnv(limiter, { ...BEHIND_PROXY, ...extra }));
    open.push(h);
    return h;
  };

  it("attack: IPv6 rotation — 40 addresses of one /64 share one budget (login brute force: per-client regulation)", async () => {
    // Route limit and bans out of the way: only the per-client failure counter (10) is under test.
    const h = await start({ RATE_LIMIT_LOGIN: "1000/1m", AUTO_BAN_TRIPS: "0" });
    const { addresses: all } = freshNetwork(41);
    const addresses = all.slice(0, 40);
    const statuses: number[] = [];
    for (const ip of addresses) statuses.push((await loginAs(h, uname("rot"), WRONG, fromIp(ip))).statusCode);
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(30).fill(429)]);
    // Even the right password of a real account, from yet another address of the /64, waits out the 10-minute block.
    const real = uname("rotreal");
    await h.register(real);
    const refused = await loginAs(h, real, GOOD_PASSWORD, fromIp(all[40]!));
    expectErrorBody(refused, 429, "rate_limited");
    expect(retryAfter(refused)).toBeGreaterThan(60);
    // The neighbouring /64 is another client; the audit log keeps each full address.
    expect((await loginAs(h, uname("rot"), WRONG, fromIp(freshNetwork(1).addresses[0]!))).statusCode).toBe(401);
    const failures = await h.gh.stores.audit.list({ type: "login_failure", limit: 50 });
    const ips = failures.map((e) => e.ip);
    expect(ips.filter((ip) => addresses.includes(ip)).sort()).toEqual(addresses.slice(0, 10).sort());
  });

  it("attack: IPv6 rotation — 40 addresses of one /64 share one budget (per-IP route limit: registration 5/min)", async () => {
    const h = await start();
    const { addresses } = freshNetwork(40);
    const statuses: number[] = [];
    for (const ip of addresses) {
      statuses.push((await h.request({ method: "POST", url: "/api/auth/register", json: { username: uname("rotreg"), password: GOOD_PASSWORD }, headers: fromIp(ip) })).statusCode);
    }
    expect(statuses.slice(0, 5)).toEqual([201, 201, 201, 201, 201]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // An IPv4 client and its IPv4-mapped IPv6 spelling are one client too.
    const v4 = "198.51.100.23";
    for (let i = 0; i < 5; i++) {
      const ip = i % 2 === 0 ? v4 : `::ffff:${v4}`;
      expect((await h.request({ method: "POST", url: "/api/auth/register", json: { username: uname("rotv4"), password: GOOD_PASSWORD }, headers: fromIp(ip) })).statusCode).toBe(201);
    }
    expectErrorBody(await h.request({ method: "POST", url: "/api/auth/register", json: { username: uname("rotv4"), password: GOOD_PASSWORD }, headers: fromIp(`::ffff:${v4}`) }), 429, "rate_limited");
  });

  it("attack: IPv6 rotation — 40 addresses of one /64 share one budget (bans: one address banned bans the /64; an admin lifts it by the prefix or by any address in it)", async () => {
    const h = await start();
    const admin = await h.account("admin");
    const { prefix, addresses } = freshNetwork(40);
    const statuses: number[] = [];
    // 10 failures, then 5 refusals (trips): banned at the 15th, whichever addresses the requests came from.
    for (const ip of addresses.slice(0, 15)) statuses.push((await loginAs(h, uname("rotban"), WRONG, fromIp(ip))).statusCode);
    expect(statuses).toEqual([...Array<number>(10).fill(401), ...Array<number>(5).fill(429)]);
    // Every other address of the /64 is banned from every route; another /64 is not.
    for (const ip of addresses.slice(15)) {
      const res = await h.request({ method: "GET", url: "/healthz", headers: fromIp(ip) });
      expectErrorBody(res, 429, "rate_limited");
      expect(retryAfter(res)).toBeGreaterThan(3_590);
    }
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(freshNetwork(1).addresses[0]!) })).statusCode).toBe(200);
    // Forward-auth asks about the client of the proxied request: the same ban answers it.
    const forwardAuth = await h.request({
      method: "GET",
      url: "/api/authz/forward-auth",
      headers: { ...fromIp(addresses[33]!), "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test", "x-forwarded-uri": "/" },
    });
    expectErrorBody(forwardAuth, 429, "rate_limited");
    // The admin list names the prefix; the audit row keeps the address that tripped, and says what the ban covers.
    const list = await h.request({ method: "GET", url: "/api/admin/bans", cookie: admin.cookie });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { bans: { ip: string }[] }).bans.map((b) => b.ip)).toEqual([prefix]);
    const page = await h.request({ method: "GET", url: "/admin/bans", cookie: admin.cookie });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(prefix);
    expect(page.body).not.toContain(addresses[14]);
    const banned = await h.gh.stores.audit.list({ type: "ip_banned", limit: 10 });
    expect(banned).toHaveLength(1);
    expect(banned[0]!.ip).toBe(addresses[14]);
    expect(banned[0]!.details).toMatchObject({ banned: prefix });

    // Lift by the listed prefix (URL-encoded).
    const lift = (target: string) => h.request({ method: "DELETE", url: `/api/admin/bans/${encodeURIComponent(target)}`, cookie: admin.cookie });
    expect((await lift(prefix)).statusCode).toBe(204);
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(addresses[20]!) })).statusCode).toBe(200);
    expectErrorBody(await lift(prefix), 404, "not_found");

    // Banned again (a new trip window), then lifted by one address inside the /64.
    h.clock.advance(10 * 60_000);
    for (const ip of addresses.slice(15, 30)) await loginAs(h, uname("rotban"), WRONG, fromIp(ip));
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(addresses[39]!) })).statusCode).toBe(429);
    expect((await lift(addresses[39]!)).statusCode).toBe(204);
    expect((await h.request({ method: "GET", url: "/healthz", headers: fromIp(addresses[0]!) })).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/api/admin/bans", cookie: admin.cookie })).json()).toEqual({ bans: [] });
  });

  it("IPV6_PREFIX_LENGTH=128 keys each address alone (for networks that hand out single addresses)", async () => {
    const h = await start({ RATE_LIMIT_LOGIN: "1000/1m", AUTO_BAN_TRIPS: "0", IPV6_PREFIX_LENGTH: "128" });
    const { addresses } = freshNetwork(12);
    for (const ip of addresses) expect((await loginAs(h, uname("rot128"), WRONG, fromIp(ip))).statusCode).toBe(401);
  });
});
