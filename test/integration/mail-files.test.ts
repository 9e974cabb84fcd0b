import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLink, renderMail } from "../../src/core/mail/mail-templates.js";
import { createFileTransport, outboxFileName } from "../../src/mail/file-transport.js";
import { MAX_LINE_OCTETS, readableTextPart } from "../../src/mail/readable-text-part.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { startMailHarness } from "../helpers/mail.js";

/** A PUBLIC_URL as long as a host name may be: its links are far longer than a quoted-printable line (76). */
const LONG_PUBLIC_URL = `https://${"l".repeat(63)}.${"o".repeat(63)}.${"n".repeat(63)}.example.test`;

/** `2026-12-06T03-04-05Z-password-reset-1a2b3c4d.eml`: sortable, no spaces or colons. */
const NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-password-reset-[0-9a-f]{8}\.eml$/;

function emlFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".eml")).sort();
}

describe.each(backendNames())("development outbox: .eml files a person can read (%s)", (backend) => {
  let h: Harness;
  let outbox: string;

  beforeAll(async () => {
    h = await startHarness(backend, { NODE_ENV: "development", PUBLIC_URL: LONG_PUBLIC_URL });
    outbox = join(h.backend.env.GATEHOUSE_DATA_DIR!, "outbox");
  });
  afterAll(async () => h?.close());

  it("`cat` shows the whole reset link on one line, and that link works", async () => {
    const email = "reader@example.test";
    await h.register("reader", GOOD_PASSWORD, email);
    expect((await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } })).statusCode).toBe(202);
    expect(await h.gh.mail.flush()).toBe(1);
    const [name] = emlFiles(outbox);
    const raw = readFileSync(join(outbox, name!), "utf8");

    // The raw file, not a MIME decoder: no soft line break (`=` + newline) and no `=3D` inside the link.
    const prefix = `${LONG_PUBLIC_URL}/reset-password#token=`;
    const lines = raw.split("\r\n");
    const line = lines.find((l) => l.startsWith(prefix));
    expect(line, raw.slice(0, 2000)).toMatch(/#token=[A-Za-z0-9_-]{43}$/);
    expect(line!.length).toBeGreaterThan(200);
    const token = line!.slice(prefix.length);
    expect(raw).toContain("Content-Transfer-Encoding: 8bit");
    for (const l of lines) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_LINE_OCTETS);

    // A mail reader sees the same link in both parts.
    const parsed = await simpleParser(readFileSync(join(outbox, name!)));
    expect(parsed.text).toContain(line);
    expect(String(parsed.html)).toContain(`href="${line}"`);

    // The file name: sortable time of the mail (the app's clock), its kind, a short id; never the token.
    expect(name).toMatch(NAME);
    expect(name!.startsWith(new Date(h.clock.now()).toISOString().slice(0, 19).replace(/:/g, "-"))).toBe(true);
    expect(name).not.toContain(token);

    expect((await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: "harbor-velvet-quartz-77" } })).statusCode).toBe(204);
  });

  it("two mails in the same second get two files, neither overwritten", async () => {
    const email = "twice@example.test";
    await h.register("twice", GOOD_PASSWORD, email);
    const before = new Set(emlFiles(outbox));
    for (let i = 0; i < 2; i++) {
      await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
      await h.gh.mail.flush();
    }
    const added = emlFiles(outbox).filter((f) => !before.has(f));
    expect(added).toHaveLength(2);
    for (const f of added) expect(f).toMatch(NAME);
  });
});

describe("the .eml writer itself", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-eml-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names files by UTC second, kind and short id", () => {
    const at = Date.UTC(2026, 11, 6, 3, 4, 5, 678);
    expect(outboxFileName(at, "password_reset", "<1A2B3C4D-5e6f-4000-8000-000000000000@auth.example.test>")).toBe("2026-12-06T03-04-05Z-password-reset-1a2b3c4d.eml");
    expect(outboxFileName(at, "email_change_verify", "<abc@x>")).toBe("2026-12-06T03-04-05Z-email-change-verify-abc.eml");
  });

  it("keeps the text part readable when it can, and falls back to quoted-printable for a line over 998 octets", async () => {
    expect(readableTextPart("plain ascii\nline two")).toContain("Content-Transfer-Encoding: 7bit\r\n\r\nplain ascii\r\nline two");
    expect(readableTextPart("— UTF-8")).toContain("Content-Transfer-Encoding: 8bit");
    expect(readableTextPart(`x${"y".repeat(MAX_LINE_OCTETS)}`)).toBeNull();

    const written: string[] = [];
    const transport = createFileTransport({ dir, from: "Gatehouse <no-reply@x.test>", onWritten: (f) => written.push(f), now: () => Date.UTC(2026, 0, 2, 3, 4, 5) });
    const huge = buildLink("https://x.test", "/reset-password", `${"t".repeat(1100)}`);
    const mail = renderMail("password_reset", "a@x.test", { productName: "Gatehouse", publicUrl: "https://x.test" }, huge);
    await transport.send({ ...mail, messageId: "<0a0b0c0d-0000-4000-8000-000000000000@x.test>", kind: "password_reset" });
    expect(written).toHaveLength(1);
    const raw = readFileSync(written[0]!);
    for (const l of raw.toString("utf8").split("\r\n")) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_LINE_OCTETS);
    expect((await simpleParser(raw)).text).toContain(huge);
  });
});

describe.each(backendNames())("SMTP delivery still carries the whole link (%s)", (backend) => {
  let m: Awaited<ReturnType<typeof startMailHarness>>;
  beforeAll(async () => {
    m = await startMailHarness(backend, { PUBLIC_URL: LONG_PUBLIC_URL });
  });
  afterAll(async () => m?.close());

  it("a long reset link arrives intact through a real SMTP server, and works", async () => {
    const email = "smtp-reader@example.test";
    await m.h.register("smtpreader", GOOD_PASSWORD, email);
    await m.h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email } });
    await m.h.gh.mail.flush();
    const mail = m.sink.to(email).at(-1)!;
    expect(mail.link).toMatch(new RegExp(`^${LONG_PUBLIC_URL.replace(/\./g, "\\.")}/reset-password#token=[A-Za-z0-9_-]{43}$`));
    expect(String(mail.html)).toContain(`href="${mail.link}"`);
    expect((await m.h.request({ method: "POST", url: "/api/auth/reset-password", json: { token: mail.token, password: "harbor-velvet-quartz-77" } })).statusCode).toBe(204);
  });
});
