import { afterEach, describe, expect, it } from "vitest";
import { backendNames, limiterBackendNames, type Backend, type LimiterBackend } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { protectionEnv, retryAfter } from "../helpers/protection.js";
import { expectErrorBody, uname } from "../helpers/attacks.js";

const HOUR = 3_600_000;

/** Storage × limiter store: both databases with the in-process store, and the Redis store. */
const combos: [Backend["name"], LimiterBackend][] = [
  ...backendNames().map((b): [Backend["name"], LimiterBackend] => [b, "memory"]),
  ...limiterBackendNames()
    .filter((l) => l === "redis")
    .map((l): [Backend["name"], LimiterBackend] => ["sqlite", l]),
];

describe.each(combos)("attack: minting API tokens in bulk from one account (%s, %s limiter)", (backend, limiter) => {
  const open: Harness[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.close()));
  });
  const start = async (extra: Record<string, string> = {}) => {
    const h = await startHarness(backend, protectionEnv(limiter, extra));
    open.push(h);
    return h;
  };
  const create = (h: Harness, cookie: string, name = "ci") =>
    h.request({ method: "POST", url: "/api/account/tokens", cookie, json: { name, scopes: ["read:account"] } });

  it("the 6th token within the hour is 429 rate_limited with Retry-After; another user is unaffected; the next hour allows it again", async () => {
    const h = await start();
    const name = uname("minter");
    const a = await h.register(name);
    const b = await h.register(uname("bystander"));
    for (let i = 0; i < 5; i++) expect((await create(h, a.cookie, `t${i}`)).statusCode).toBe(201);
    const refused = await create(h, a.cookie, "one too many");
    expectErrorBody(refused, 429, "rate_limited");
    expect(retryAfter(refused)).toBeGreaterThanOrEqual(1);
    expect(retryAfter(refused)).toBeLessThanOrEqual(3_600);
    // Nothing was minted by the refused request.
    const list = await h.request({ method: "GET", url: "/api/account/tokens", cookie: a.cookie });
    expect(list.json().tokens).toHaveLength(5);
    expect((await create(h, b.cookie)).statusCode).toBe(201);
    h.clock.advance(HOUR);
    // (The hour also ended the session: signing in again gives a fresh one.)
    const again = await h.login(name);
    expect((await create(h, again.cookie, "next hour")).statusCode).toBe(201);
  });

  it("the account page's token form shares the counter: 3 through the API, 2 through the form, then both refuse", async () => {
    const h = await start();
    const name = uname("webminter");
    await h.register(name);
    const b = new WebClient(h);
    expect((await b.signIn(name, GOOD_PASSWORD)).statusCode).toBe(303);
    for (let i = 0; i < 3; i++) expect((await create(h, b.session!, `api${i}`)).statusCode).toBe(201);
    for (let i = 0; i < 2; i++) {
      await b.get("/account");
      expect((await b.post("/account/tokens", { name: `form${i}`, scopes: ["read:account"], expiresInDays: "30" })).statusCode).toBe(200);
    }
    await b.get("/account");
    const form = await b.post("/account/tokens", { name: "form-extra", scopes: ["read:account"], expiresInDays: "30" });
    expect(form.statusCode).toBe(429);
    expect(retryAfter(form)).toBeGreaterThanOrEqual(1);
    expect(form.body).not.toMatch(/gth_[A-Za-z0-9_-]{43}/);
    expectErrorBody(await create(h, b.session!, "api-extra"), 429, "rate_limited");
  });

  it("RATE_LIMIT_TOKEN_CREATE sets the limit (2/10m): the 3rd is refused, Retry-After within the window", async () => {
    const h = await start({ RATE_LIMIT_TOKEN_CREATE: "2/10m" });
    const a = await h.register(uname("minter"));
    expect((await create(h, a.cookie)).statusCode).toBe(201);
    expect((await create(h, a.cookie)).statusCode).toBe(201);
    const refused = await create(h, a.cookie);
    expectErrorBody(refused, 429, "rate_limited");
    expect(retryAfter(refused)).toBeLessThanOrEqual(600);
  });
});
