import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, MAIL_PUBLIC_URL, startMailHarness, uname } from "../helpers/mail.js";

describe.each(backendNames())("attack: flooding a victim's inbox (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend));
  });
  afterAll(async () => close());

  async function victim(): Promise<{ name: string; email: string; cookie: string }> {
    const name = uname("flood");
    const email = `${name}@example.test`;
    const { cookie } = await h.register(name, GOOD_PASSWORD, email);
    return { name, email, cookie };
  }

  /** A request from its own IP address (an attacker rotating addresses). */
  function from(ip: string, url: string, json: unknown) {
    return h.gh.app.inject({ method: "POST", url, remoteAddress: ip, headers: { origin: MAIL_PUBLIC_URL, "content-type": "application/json" }, payload: JSON.stringify(json) });
  }

  it("10 forgot-password requests from 10 addresses → 10 identical answers, 3 mails; the quota refills after 15 minutes", async () => {
    const { email } = await victim();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => from(`198.51.100.${i + 1}`, "/api/auth/forgot-password", { email })));
    expect(new Set(answers.map((r) => `${r.statusCode} ${r.body}`))).toEqual(new Set(['202 {"status":"sent_if_registered"}']));
    expect(await inbox(h, sink, email)).toHaveLength(3);
    h.clock.advance(15 * 60_000);
    await from("198.51.100.99", "/api/auth/forgot-password", { email });
    expect(await inbox(h, sink, email)).toHaveLength(4);
  });

  it("10 forgot-password requests from one address → 10 identical answers, 3 mails", async () => {
    const { email } = await victim();
    const answers: Awaited<ReturnType<Harness["request"]>>[] = [];
    for (let i = 0; i < 10; i++) answers.push(await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } }));
    expect(answers.every((r) => r.statusCode === 202 && r.body === answers[0]!.body)).toBe(true);
    expect(await inbox(h, sink, email)).toHaveLength(3);
  });

  it("resend-verification and forgot-password share the per-account quota", async () => {
    const { email } = await victim();
    for (let i = 0; i < 5; i++) {
      expect((await h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email } })).statusCode).toBe(202);
      expect((await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } })).statusCode).toBe(202);
    }
    expect(await inbox(h, sink, email)).toHaveLength(3);
  });

  it("one IP gets at most 20 mails an hour, across many accounts, with unchanged answers", async () => {
    const ip = "203.0.113.7";
    const victims = [];
    for (let i = 0; i < 25; i++) victims.push(await victim());
    const answers = [];
    for (const v of victims) answers.push(await from(ip, "/api/auth/forgot-password", { email: v.email }));
    expect(answers.every((r) => r.statusCode === 202)).toBe(true);
    await h.gh.mail.flush();
    const mailed = victims.filter((v) => sink.to(v.email).length > 0);
    expect(mailed).toHaveLength(20);
  });

  it("email-change requests are limited the same way (3 per 15 minutes per account)", async () => {
    h.clock.advance(60 * 60_000); // a fresh hour: the earlier cases used up 127.0.0.1's quota
    const { cookie } = await victim();
    const targets: string[] = [];
    for (let i = 0; i < 6; i++) {
      const target = `${uname("target")}@example.test`;
      targets.push(target);
      const res = await h.request({ method: "POST", url: "/api/account/email", cookie, json: { email: target } });
      expect(res.statusCode, res.body).toBe(202);
    }
    await h.gh.mail.flush();
    expect(targets.filter((t) => sink.to(t).length > 0)).toHaveLength(3);
  });
});
