import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { lastLink, MAIL_PUBLIC_URL, startMailHarness, uname } from "../helpers/mail.js";

const NEW_PASSWORD = "harbor-velvet-quartz-77";
const sha256hex = (v: string) => createHash("sha256").update(v, "utf8").digest("hex");

describe.each(backendNames())("attack: reset and verification token abuse (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend));
  });
  afterAll(async () => close());

  async function resetLink(): Promise<{ name: string; email: string; token: string }> {
    const name = uname("victim");
    const email = `${name}@example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    const { token } = await lastLink(h, sink, email);
    return { name, email, token };
  }
  const reset = (token: string, password = NEW_PASSWORD) => h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password } });

  it("the database holds only the SHA-256 of the token; the queued mail is encrypted and blanked once sent", async () => {
    const name = uname("stored");
    const email = `${name}@example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    await sink.stop(); // the mail stays queued
    try {
      await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
      await h.gh.mail.flush();
      const pending = await h.gh.database.db.selectFrom("mail_outbox").selectAll().where("status", "=", "pending").execute();
      expect(pending).toHaveLength(1);
      const queued = JSON.stringify(pending);
      expect(queued).not.toContain(email);
      expect(queued).not.toContain("reset-password");
      expect(queued).not.toContain("Reset your");
    } finally {
      await sink.start();
    }
    h.clock.advance(60_000);
    const { token } = await lastLink(h, sink, email);
    const rows = await h.gh.database.db.selectFrom("email_tokens").selectAll().execute();
    expect(rows.some((r) => r.token_hash === sha256hex(token))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
    const outbox = await h.gh.database.db.selectFrom("mail_outbox").select(["payload", "status"]).execute();
    expect(outbox.every((r) => r.status === "sent" && r.payload === "")).toBe(true);
  });

  it("reuse: a second use of a token is refused (400)", async () => {
    const { token } = await resetLink();
    expect((await reset(token)).statusCode).toBe(204);
    const again = await reset(token, "another-fresh-passphrase-9");
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: "invalid_token" });
  });

  it("parallel double use: of 10 concurrent resets with one token exactly one succeeds", async () => {
    const { name, token } = await resetLink();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => reset(token, `${NEW_PASSWORD}-${i}`)));
    const ok = results.filter((r) => r.statusCode === 204);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 400)).toHaveLength(9);
    const winner = results.indexOf(ok[0]!);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: `${NEW_PASSWORD}-${winner}` } })).statusCode).toBe(200);
  });

  it("a newer request kills the older link", async () => {
    const { email, token: first } = await resetLink();
    await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    const { token: second } = await lastLink(h, sink, email);
    expect(second).not.toBe(first);
    expect((await reset(first)).statusCode).toBe(400);
    expect((await reset(second)).statusCode).toBe(204);
  });

  it("expiry: the link is dead 61 minutes later (and alive at 59)", async () => {
    const a = await resetLink();
    const b = await resetLink();
    h.clock.advance(59 * 60_000);
    expect((await reset(a.token)).statusCode).toBe(204);
    h.clock.advance(2 * 60_000);
    const late = await reset(b.token);
    expect(late.statusCode).toBe(400);
    expect(late.json().code).toBe("invalid_token");
  });

  it("cross-user use: a token resets only the account it was mailed for", async () => {
    const a = await resetLink();
    const b = await resetLink();
    expect((await reset(a.token)).statusCode).toBe(204);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: b.name, password: GOOD_PASSWORD } })).statusCode).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: b.name, password: NEW_PASSWORD } })).statusCode).toBe(401);
    // A reset token is not a verification token, nor the other way round.
    const c = await resetLink();
    expect((await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token: c.token } })).statusCode).toBe(400);
  });

  it("a verification link issued for address A is refused once the account moved to address B", async () => {
    const name = uname("mover");
    const a = `${name}@a.example.test`;
    const b = `${name}@b.example.test`;
    await h.register(name, GOOD_PASSWORD, a);
    await h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email: a } });
    const { token: forA } = await lastLink(h, sink, a);
    const { cookie } = await h.login(name);
    await h.request({ method: "POST", url: "/api/auth/reauth", cookie, json: { password: GOOD_PASSWORD } }).then(async (r) => {
      const c = r.headers["set-cookie"];
      const fresh = (Array.isArray(c) ? c[0] : c)!.split(";")[0]!;
      expect((await h.request({ method: "POST", url: "/api/account/email", cookie: fresh, json: { email: b } })).statusCode).toBe(202);
    });
    const { token: forB } = await lastLink(h, sink, b);
    expect((await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token: forB } })).statusCode).toBe(204);
    const res = await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token: forA } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_token");
  });

  it("forged, malformed and oversized tokens are a 400, never a 500", async () => {
    for (const token of [randomBytes(32).toString("base64url"), "", "x", "a".repeat(256), "../../etc/passwd", "' or 1=1 --"]) {
      const res = await reset(token);
      expect(res.statusCode, token).toBe(400);
      const v = await h.request({ method: "POST", url: "/api/auth/verify-email", json: { token } });
      expect(v.statusCode, token).toBe(400);
    }
    expect((await reset("a".repeat(300))).json().code).toBe("invalid_request");
  });

  it("no token, link or new password ever reaches the logs", async () => {
    const { token } = await resetLink();
    await reset(token);
    const logs = h.logs.text();
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(encodeURIComponent(token));
    expect(logs).not.toContain(NEW_PASSWORD);
    expect(logs).not.toContain("#token=");
  });
});

describe.each(backendNames())("attack: brute force over random reset tokens (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, { BRUTE_FORCE_IP_FAILURES: "10", PUBLIC_URL: MAIL_PUBLIC_URL });
  });
  afterAll(async () => h?.close());

  it("guessing tokens counts as failed secret checks: the IP is throttled after 10", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token: randomBytes(32).toString("base64url"), password: NEW_PASSWORD } });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 10).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe.each(backendNames())("attack: lock-out games around reset (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    h = await startHarness(backend, { SMTP_URL: sink.url, PUBLIC_URL: MAIL_PUBLIC_URL, BRUTE_FORCE_ACCOUNT_LOCK: "10" });
  });
  afterAll(async () => {
    await h?.close();
    await sink?.stop();
  });

  it("requesting resets never locks or changes an account; a completed reset lifts a brute-force lock", async () => {
    const name = uname("locked");
    const email = `${name}@example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    const login = (password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password } });

    for (let i = 0; i < 10; i++) await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    expect((await login(GOOD_PASSWORD)).statusCode).toBe(200);

    // Drive the account to its hard lock (10 failures, each after its delay, from fresh IPs).
    const user = await h.gh.stores.users.findByLogin({ email });
    for (let i = 0; i < 10; i++) {
      h.clock.advance(20 * 60_000);
      const admitted = await h.gh.regulator.admit({ ip: `192.0.2.${i + 1}`, userAgent: "attacker" }, { key: `user:${user!.id}`, userId: user!.id }).catch(() => null);
      if (admitted !== null) await h.gh.regulator.record(admitted, false);
    }
    h.clock.advance(20 * 60_000);
    expect((await login(GOOD_PASSWORD)).statusCode).toBe(429);

    await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    const { token } = await lastLink(h, sink, email);
    expect((await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } })).statusCode).toBe(204);
    expect((await login(NEW_PASSWORD)).statusCode).toBe(200);
  });
});
