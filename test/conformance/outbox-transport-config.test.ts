import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { renderMail } from "../../src/core/mail/mail-templates.js";
import { isHeaderSafe } from "../../src/core/mail/mail-message.js";
import { parseSmtpUrl } from "../../src/mail/smtp-url.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";

const KEY = randomBytes(32).toString("hex");

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, ...env });
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}

describe("mail configuration", () => {
  it("accepts smtps:// (implicit TLS) and smtp:// (STARTTLS required); plaintext only with ?ignoreTLS=true", () => {
    expect(parseSmtpUrl("smtps://user:p%40ss@mail.example.com")).toMatchObject({ secure: true, port: 465, ignoreTLS: false, user: "user", pass: "p@ss" });
    expect(parseSmtpUrl("smtp://mail.example.com")).toMatchObject({ secure: false, port: 587, ignoreTLS: false });
    expect(parseSmtpUrl("smtp://127.0.0.1:2525?ignoreTLS=true")).toMatchObject({ port: 2525, ignoreTLS: true });
    expect(parseSmtpUrl("smtps://user:secret@mail.example.com:465").description).toBe("smtps://mail.example.com:465");
  });

  it.each([
    ["http://mail.example.com", "smtp://"],
    ["smtp://mail.example.com?secure=false", "ignoreTLS"],
    ["smtp://mail.example.com?tls.rejectUnauthorized=false", "ignoreTLS"],
    ["smtps://mail.example.com?ignoreTLS=true", "cannot combine"],
    ["not a url", "URL"],
  ])("refuses SMTP_URL=%s, naming the problem but never the value", (url, hint) => {
    const found = problems({ SMTP_URL: url.replace("mail.example.com", "user:hunter2hunter2@mail.example.com") });
    expect(found.join("\n")).toContain("SMTP_URL");
    expect(found.join("\n")).toContain(hint);
    expect(found.join("\n")).not.toContain("hunter2");
  });

  it("refuses CR/LF in MAIL_FROM and MAIL_PRODUCT_NAME (header injection)", () => {
    expect(problems({ MAIL_FROM: "a@b.test\r\nBcc: victim@x.test" }).join()).toContain("MAIL_FROM");
    expect(problems({ MAIL_PRODUCT_NAME: "Acme\nBcc: x@y.test" }).join()).toContain("MAIL_PRODUCT_NAME");
  });

  it("defaults MAIL_FROM to the product name at the PUBLIC_URL host", () => {
    const config = loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, PUBLIC_URL: "https://login.acme.test", MAIL_PRODUCT_NAME: "Acme" });
    expect(config.mailFrom).toBe("Acme <no-reply@login.acme.test>");
  });

  it("templates: plain text and HTML, branded, no recipient with CR/LF, HTML-escaped", () => {
    const mail = renderMail("password_reset", "a@b.test", { productName: "A&B <Corp>", publicUrl: "https://x.test" }, "https://x.test/reset-password#token=abc");
    expect(mail.text).toContain("https://x.test/reset-password#token=abc");
    expect(mail.html).toContain("A&#38;B &#60;Corp&#62;");
    expect(mail.html).not.toContain("<Corp>");
    expect(() => renderMail("password_reset", "a@b.test\r\nBcc: c@d.test", { productName: "X", publicUrl: "https://x.test" })).toThrow();
    expect(isHeaderSafe("ok@example.test")).toBe(true);
    expect(isHeaderSafe("x\r\ny")).toBe(false);
  });
});

describe.each(backendNames())("mail without SMTP_URL (%s)", (backend) => {
  describe("development: .eml files in the data dir, the log says where but holds no link", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(backend, { NODE_ENV: "development" });
    });
    afterAll(async () => h?.close());

    it("writes the reset mail as an .eml file; the log mentions the file, never the token", async () => {
      const email = "devuser@example.test";
      await h.register("devuser", GOOD_PASSWORD, email);
      await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
      expect(await h.gh.mail.flush()).toBe(1);
      const dir = join(h.backend.env.GATEHOUSE_DATA_DIR!, "outbox");
      const files = readdirSync(dir).filter((f) => f.endsWith(".eml"));
      expect(files).toHaveLength(1);
      const eml = await simpleParser(readFileSync(join(dir, files[0]!)));
      expect(eml.headers.get("to")).toMatchObject({ text: "devuser@example.test" });
      const token = /#token=([A-Za-z0-9_-]{43})/.exec(eml.text ?? "")?.[1];
      expect(token).toBeDefined();
      expect(h.logs.text()).toContain("mail written to a file");
      expect(h.logs.text()).toContain("SMTP_URL is not set");
      expect(h.logs.text()).not.toContain(token!);
      // The file's link works.
      const res = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: "harbor-velvet-quartz-77" } });
      expect(res.statusCode).toBe(204);
    });
  });

  describe("production: mail is disabled (no links written to disk), said loudly; answers unchanged", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(backend, { NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test" });
    });
    afterAll(async () => h?.close());

    it("forgot-password still answers 202 and nothing is queued", async () => {
      const email = "produser@example.test";
      await h.register("produser", GOOD_PASSWORD, email);
      const res = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
      expect(res.statusCode).toBe(202);
      await h.gh.mail.flush();
      expect(await h.gh.mail.outbox.counts()).toEqual({ pending: 0, sent: 0, failed: 0 });
      expect(h.logs.text()).toContain("mail is disabled");
    });

    it("the \"email verification required\" setting is not enforced, since nobody could verify", async () => {
      const admin = await h.account("superadmin", "prodroot");
      await h.gh.settings.update(admin.id, { emailVerificationRequired: true }, { ip: "127.0.0.1", userAgent: "test" });
      const { res } = await h.register("prodnew", GOOD_PASSWORD, "prodnew@example.test");
      expect(res.statusCode).toBe(201);
      expect((await h.login("prodnew")).res.statusCode).toBe(200);
    });
  });
});
