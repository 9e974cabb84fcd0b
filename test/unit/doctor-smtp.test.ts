import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnose } from "../../src/cli/doctor-checks.js";

describe("gatehouse doctor: outgoing mail in plaintext (reset links sniffed on the wire)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-doctor-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { NODE_ENV: "production", GATEHOUSE_DATA_DIR: dir, PUBLIC_URL: "https://auth.example.com", SECRET_KEY: "k".repeat(20) + "9f3a1c7e5b2d8f40aa" };
  const smtpFindings = (url: string) => diagnose({ ...base, SMTP_URL: url }).filter((f) => f.message.includes("SMTP_URL"));

  it("warns when a remote relay is reached with ignoreTLS=true, and never prints the URL's password", () => {
    const found = smtpFindings("smtp://mailer:hunter2-smtp@mail.example.com:587?ignoreTLS=true");
    expect(found).toHaveLength(1);
    expect(found[0]!.level).toBe("warn");
    expect(JSON.stringify(found)).not.toContain("hunter2-smtp");
  });

  it("stays quiet for smtp:// with STARTTLS required, smtps://, and a local relay", () => {
    expect(smtpFindings("smtp://mail.example.com:587")).toEqual([]);
    expect(smtpFindings("smtps://mail.example.com:465")).toEqual([]);
    expect(smtpFindings("smtp://127.0.0.1:25?ignoreTLS=true")).toEqual([]);
  });
});
