import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { WebClient } from "../helpers/web-client.js";
import { lastLink, requireVerification, startMailHarness, uname } from "../helpers/mail.js";

const NEW_PASSWORD = "harbor-velvet-quartz-77";

/** Every src/href of a page that leaves the origin. */
function offOrigin(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]!).filter((u) => /^(?:[a-z]+:)?\/\//i.test(u));
}

describe.each(backendNames())("email pages without JavaScript (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend));
  });
  afterAll(async () => close());

  it.each(["/reset-password", "/verify-email"])("GET %s: Referrer-Policy no-referrer, nothing third-party, no action on GET", async (path) => {
    const res = await h.request({ method: "GET", url: `${path}?token=abc` });
    expect(res.statusCode).toBe(200);
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(String(res.headers["content-security-policy"])).toContain("default-src 'none'");
    expect(offOrigin(res.body)).toEqual([]);
    expect(res.body).toContain("data-fragment-token");
    expect(res.body).toContain('method="post"');
  });

  it("forgot → mail → reset page → sign in with the new password", async () => {
    const name = uname("webby");
    const email = `${name}@example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    const browser = new WebClient(h);
    await browser.get("/forgot-password");
    const sent = await browser.post("/forgot-password", { email });
    expect(sent.statusCode).toBe(202);
    expect(sent.body).toContain('data-status="sent_if_registered"');
    await browser.get("/forgot-password");
    const unknown = await browser.post("/forgot-password", { email: `nobody.${email}` });
    expect(unknown.statusCode).toBe(202);
    // Identical but for the per-response CSP nonce.
    const shape = (body: string) => body.replace(/nonce="[^"]*"/g, "");
    expect(shape(unknown.body)).toBe(shape(sent.body));

    const { token, link } = await lastLink(h, sink, email);
    const url = new URL(link);
    const page = await browser.get(url.pathname);
    expect(page.statusCode).toBe(200);
    const weak = await browser.post("/reset-password", { token, password: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.headers["referrer-policy"]).toBe("no-referrer");
    expect(weak.body).not.toContain(token);
    const done = await browser.post("/reset-password", { token, password: NEW_PASSWORD });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/login?notice=password_reset");
    expect(browser.session).toBeNull();
    await browser.get("/reset-password");
    const again = await browser.post("/reset-password", { token, password: NEW_PASSWORD });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain("invalid, was already used or has expired");

    const signIn = await browser.signIn(name, NEW_PASSWORD);
    expect(signIn.statusCode).toBe(303);
  });

  it("sign up with verification required → confirm on the landing page (POST) → signed in works", async () => {
    await requireVerification(h);
    try {
      const name = uname("vic");
      const email = `${name}@example.test`;
      const browser = new WebClient(h);
      await browser.get("/register");
      const res = await browser.post("/register", { username: name, email, password: GOOD_PASSWORD });
      expect(res.statusCode).toBe(202);
      expect(browser.session).toBeNull();
      const { token } = await lastLink(h, sink, email);
      await browser.get("/verify-email");
      const ok = await browser.post("/verify-email", { token });
      expect(ok.statusCode).toBe(303);
      expect(ok.headers.location).toBe("/login?notice=email_verified");
      const login = await browser.signIn(name, GOOD_PASSWORD);
      expect(login.statusCode).toBe(303);
      expect(browser.session).not.toBeNull();
    } finally {
      await requireVerification(h, false);
    }
  });

  it("change email: the password re-authenticates, the old address is told, the link confirms the new one", async () => {
    const name = uname("chg");
    const email = `${name}@example.test`;
    const next = `${name}@next.example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    const browser = new WebClient(h);
    await browser.signIn(name, GOOD_PASSWORD);
    h.clock.advance(11 * 60_000);
    const form = await browser.get("/account/email");
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('autocomplete="current-password"');
    const wrong = await browser.post("/account/email", { email: next, password: "not-my-password-at-all" });
    expect(wrong.statusCode).toBe(403);
    const res = await browser.post("/account/email", { email: next, password: GOOD_PASSWORD });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/account?notice=email_change_sent");
    const { token } = await lastLink(h, sink, next);
    expect(sink.to(email).some((m) => m.subject.includes("being changed"))).toBe(true);
    await browser.get("/verify-email");
    const ok = await browser.post("/verify-email", { token });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/account?notice=email_verified");
    const me = await h.request({ method: "GET", url: "/api/auth/me", cookie: browser.session! });
    expect(me.json().user.email).toBe(next);
  });

  it("anonymous visitors of /account/email are sent to sign in", async () => {
    const res = await h.request({ method: "GET", url: "/account/email" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toContain("/login");
  });
});
