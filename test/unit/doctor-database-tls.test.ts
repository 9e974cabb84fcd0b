import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnose } from "../../src/cli/doctor-checks.js";

describe("gatehouse doctor: PostgreSQL reached without (verified) TLS", () => {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-doctor-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { NODE_ENV: "production", GATEHOUSE_DATA_DIR: dir, PUBLIC_URL: "https://auth.example.com", SECRET_KEY: "k".repeat(20) + "9f3a1c7e5b2d8f40aa" };
  const tlsFindings = (env: Record<string, string>) =>
    diagnose({ ...base, ...env })
      .filter((f) => f.message.includes("PostgreSQL connection"))
      .map((f) => `${f.level}: ${f.message}`);
  const app = (query: string) => ({ DATABASE_URL: `postgres://gatehouse_app@db.internal:5432/gatehouse${query}` });

  it("stays quiet for verify-full (with or without a CA file), and for require and verify-ca, which pg 8 verifies too", () => {
    for (const q of ["?sslmode=verify-full", "?sslmode=verify-full&sslrootcert=/etc/gatehouse/db-ca.pem", "?sslmode=require", "?sslmode=verify-ca"]) expect(tlsFindings(app(q)), q).toEqual([]);
    expect(tlsFindings({ DATABASE_URL: "postgres://gatehouse_app@127.0.0.1:5432/gatehouse" })).toEqual([]);
  });

  it("warns about plaintext: no sslmode, disable, prefer", () => {
    for (const q of ["", "?sslmode=disable", "?sslmode=prefer"]) {
      expect(tlsFindings(app(q)), q).toEqual(["warn: the PostgreSQL connection of DATABASE_URL is not required to use TLS"]);
    }
  });

  it("attack: a database impersonated on the path — warns about TLS without a certificate check (no-verify, libpq's require)", () => {
    for (const q of ["?sslmode=no-verify", "?ssl=no-verify", "?uselibpqcompat=true&sslmode=require", "?uselibpqcompat=true&sslmode=prefer"]) {
      expect(tlsFindings(app(q)), q).toEqual(["warn: the PostgreSQL connection of DATABASE_URL uses TLS without checking the server's certificate"]);
    }
  });

  it("checks DATABASE_MIGRATION_URL the same way", () => {
    expect(tlsFindings({ ...app("?sslmode=verify-full"), DATABASE_MIGRATION_URL: "postgres://gatehouse_owner@db.internal:5432/gatehouse" })).toEqual([
      "warn: the PostgreSQL connection of DATABASE_MIGRATION_URL is not required to use TLS",
    ]);
  });
});
