import { expect } from "vitest";
import type { Backend } from "./backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "./harness.js";
import { startSmtpSink, type ReceivedMail, type SmtpSink } from "./smtp-sink.js";
import { uname } from "./names.js";

export { uname };


/** The public URL every mail suite runs with (https, so links are checked against it). */
export const MAIL_PUBLIC_URL = "https://auth.example.test";

/** Sends whatever the app queued, then returns the mails `address` received. */
export async function inbox(h: Harness, sink: SmtpSink, address: string): Promise<ReceivedMail[]> {
  await h.gh.mail.flush();
  return sink.to(address);
}

/** The single newest mail to `address` carrying a link; asserts the link is built from PUBLIC_URL. */
export async function lastLink(h: Harness, sink: SmtpSink, address: string): Promise<{ mail: ReceivedMail; token: string; link: string }> {
  const mails = (await inbox(h, sink, address)).filter((m) => m.token !== null);
  const mail = mails.at(-1);
  if (!mail?.token || !mail.link) throw new Error(`no link mailed to ${address}`);
  expect(new URL(mail.link).origin).toBe(MAIL_PUBLIC_URL);
  return { mail, token: mail.token, link: mail.link };
}

const admins = new WeakMap<Harness, string>();

/** Turns "email verification required" on or off (as a superadmin would). */
export async function requireVerification(h: Harness, on = true): Promise<void> {
  let adminId = admins.get(h);
  if (adminId === undefined) {
    adminId = (await h.account("superadmin", uname("root"))).id;
    admins.set(h, adminId);
  }
  await h.gh.settings.update(adminId, { emailVerificationRequired: on }, { ip: "127.0.0.1", userAgent: "test" });
}

/** A Gatehouse sending through a real SMTP sink, with {@link MAIL_PUBLIC_URL}; `close` stops both. */
export async function startMailHarness(backend: Backend["name"], env: Record<string, string> = {}): Promise<{ h: Harness; sink: SmtpSink; close(): Promise<void> }> {
  const sink = await startSmtpSink();
  try {
    const h = await startHarness(backend, { SMTP_URL: sink.url, PUBLIC_URL: MAIL_PUBLIC_URL, ...env });
    return { h, sink, close: async () => (await h.close(), await sink.stop()) };
  } catch (err) {
    await sink.stop();
    throw err;
  }
}

/**
 * A signed-in account of `role` made directly through the account service
 * (registration may be closed in the suite), with an email unless told not to.
 */
export async function signedInAccount(h: Harness, role: "user" | "admin" | "superadmin", withEmail = true): Promise<{ cookie: string; id: string; name: string }> {
  const name = uname(role.slice(0, 3));
  const { user } = await h.gh.accounts.register(
    { username: name, password: GOOD_PASSWORD, ...(withEmail ? { email: `${name}@example.test` } : {}) },
    { ip: "127.0.0.1", userAgent: "test" },
    { role, signIn: false },
  );
  const { cookie } = await h.login(name);
  return { cookie, id: user.id, name };
}
