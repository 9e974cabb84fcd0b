import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";

const APP_HOST = "app.example.test";
let seq = 0;

describe.each(backendNames())("web portal on a proxied host, under /.gatehouse (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    // Nothing listens on the upstream: only Gatehouse's own pages under the prefix are requested.
    h = await startHarness(backend, { UPSTREAM_URL: "http://127.0.0.1:9" });
  });
  afterAll(async () => h?.close());

  it("every link, asset and form action carries the prefix, and sign-in works end to end", async () => {
    const name = `proxied${++seq}x${process.pid % 1000}`;
    await h.register(name);
    const b = new WebClient(h);
    const headers = { host: APP_HOST, origin: null };
    const page = await b.get("/.gatehouse/login", headers);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/.gatehouse/login"');
    expect(page.body).toMatch(/href="\/\.gatehouse\/assets\/gatehouse\.css\?v=/);
    expect(page.body).toContain('href="/.gatehouse/register"');
    expect(page.body).not.toMatch(/(href|action|src)="\/(?!\.gatehouse\/)/);
    const css = /href="(\/\.gatehouse\/assets\/gatehouse\.css[^"]*)"/.exec(page.body)![1]!;
    expect((await b.get(css, headers)).statusCode).toBe(200);

    const anon = await new WebClient(h).get("/.gatehouse/account", headers);
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe("/.gatehouse/login?return=%2F.gatehouse%2Faccount");

    const res = await b.post("/.gatehouse/login", { username: name, password: GOOD_PASSWORD }, headers);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
    expect(res.headers.location).toBe("/.gatehouse/account");
    const account = await b.get("/.gatehouse/account", headers);
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('action="/.gatehouse/logout"');
    expect(account.body).toContain('action="/.gatehouse/account/password"');
    expect(account.body).not.toMatch(/(href|action|src)="\/(?!\.gatehouse\/)/);
    const out = await b.post("/.gatehouse/logout", {}, headers);
    expect(out.headers.location).toBe("/.gatehouse/login?notice=signed_out");
  });
});
