import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { PG_URL } from "../helpers/backends.js";
import { gatehouse, serve } from "../helpers/run-gatehouse.js";
import { startTlsPostgres, type TlsPostgres } from "../helpers/tls-postgres.js";

if (process.env.GATEHOUSE_TEST_PG === "off" && process.env.CI === "true") throw new Error("GATEHOUSE_TEST_PG=off is not allowed with CI=true");

/** PG_URL with `query` (TLS options) appended. */
const withQuery = (query: string): string => `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}${query}`;

/**
 * The test server answers plain TCP only (`ssl = off`, checked first). What
 * can be shown here: every form that asks for TLS is refused at once with a
 * clear error — no hang, and never a silent plaintext fallback — and a CA
 * file that cannot be read stops the start with its path. Certificate
 * verification is tested against a private TLS cluster below.
 */
describe("DATABASE_URL TLS options against a server without TLS (postgres)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-db-tls-"));
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      const { rows } = await c.query<{ ssl: string }>("show ssl");
      // The premise of this suite: if the server ever offers TLS, the tests below must be rewritten, not pass by accident.
      expect(rows[0]?.ssl).toBe("off");
    } finally {
      await c.end();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const query of ["sslmode=verify-full", "sslmode=require", "sslmode=verify-ca", "sslmode=prefer", "sslmode=no-verify", "uselibpqcompat=true&sslmode=prefer", "ssl=true"]) {
    it(`attack: TLS stripped on the path — ${query} is refused at once, never used in plaintext`, async () => {
      const started = Date.now();
      await expect(openDatabase({ databaseUrl: withQuery(query), dataDir: dir })).rejects.toThrow("The server does not support SSL connections");
      expect(Date.now() - started).toBeLessThan(4_000);
    });
  }

  it("sslmode=disable connects in plaintext (the explicit opt-out), so the refusals above are about TLS", async () => {
    const c = new pg.Client({ connectionString: withQuery("sslmode=disable") });
    await c.connect();
    try {
      expect((await c.query<{ ssl: boolean | null }>("select ssl from pg_stat_ssl where pid = pg_backend_pid()")).rows[0]?.ssl).toBe(false);
    } finally {
      await c.end();
    }
  });

  it("a start with sslmode=verify-full fails with one line and exit status 1, not a hang or a stack trace", async () => {
    const env = { NODE_ENV: "test", SECRET_KEY: randomBytes(32).toString("hex"), GATEHOUSE_DATA_DIR: join(dir, "data"), PORT: "0", DATABASE_URL: withQuery("sslmode=verify-full") };
    const started = Date.now();
    const failed = await serve(env, dir).then(
      () => null,
      (err: { code?: number; output?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.output).toContain("gatehouse: failed to start: The server does not support SSL connections");
    expect(failed?.output).not.toMatch(/\n\s+at /);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("PGSSLMODE=verify-full in the environment applies to a URL without sslmode (the driver reads it)", async () => {
    const r = await gatehouse(["migrate"], { NODE_ENV: "test", GATEHOUSE_DATA_DIR: join(dir, "data"), DATABASE_URL: PG_URL, PGSSLMODE: "verify-full" }, dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("The server does not support SSL connections");
  });

  it("an sslrootcert file that cannot be read stops the start with its path", async () => {
    await expect(openDatabase({ databaseUrl: withQuery(`sslmode=verify-full&sslrootcert=${join(dir, "missing-ca.pem")}`), dataDir: dir })).rejects.toThrow(
      `ENOENT: no such file or directory, open '${join(dir, "missing-ca.pem")}'`,
    );
  });
});

/** True when the connection under `database` is encrypted (PostgreSQL's own view). */
async function encrypted(database: OpenDatabase): Promise<boolean> {
  const { rows } = await sql<{ ssl: boolean }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(database.db);
  return rows[0]?.ssl === true;
}

/**
 * A throwaway cluster with `ssl = on` and a certificate for `localhost` signed
 * by a throwaway CA: what each documented URL form does against a real
 * certificate, through Gatehouse's own openDatabase.
 */
describe("DATABASE_URL TLS options against a server with TLS (a private PostgreSQL cluster)", () => {
  let server: TlsPostgres;
  beforeAll(async () => {
    server = await startTlsPostgres();
  });
  afterAll(async () => server?.stop());
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-db-tls-ok-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sslmode=verify-full with sslrootcert= the CA: connects, encrypted, and Gatehouse migrates over it", async () => {
    const database = await openDatabase({ databaseUrl: server.url("localhost", `sslmode=verify-full&sslrootcert=${server.caFile}`), dataDir: dir });
    try {
      expect(await encrypted(database)).toBe(true);
      expect(await database.ping()).toBe(true);
    } finally {
      await database.close();
    }
  });

  it("attack: a database impersonated on the path — verify-full refuses a certificate no trusted CA signed", async () => {
    await expect(openDatabase({ databaseUrl: server.url("localhost", "sslmode=verify-full"), dataDir: dir })).rejects.toThrow(/unable to verify the first certificate|self[- ]signed/);
    await expect(openDatabase({ databaseUrl: server.url("localhost", `sslmode=verify-full&sslrootcert=${server.otherCaFile}`), dataDir: dir })).rejects.toThrow(/unable to verify the first certificate|self[- ]signed/);
  });

  it("attack: a certificate for another name — verify-full refuses a host the certificate does not name", async () => {
    await expect(openDatabase({ databaseUrl: server.url("127.0.0.1", `sslmode=verify-full&sslrootcert=${server.caFile}`), dataDir: dir })).rejects.toThrow(/Hostname\/IP does not match certificate's altnames/);
  });

  it("sslmode=require verifies too with pg 8 (refused without the CA, accepted with it)", async () => {
    await expect(openDatabase({ databaseUrl: server.url("localhost", "sslmode=require"), dataDir: dir })).rejects.toThrow(/unable to verify the first certificate|self[- ]signed/);
    const database = await openDatabase({ databaseUrl: server.url("localhost", `sslmode=require&sslrootcert=${server.caFile}`), dataDir: dir });
    try {
      expect(await encrypted(database)).toBe(true);
    } finally {
      await database.close();
    }
  });

  it("no-verify and uselibpqcompat=true&sslmode=require encrypt without checking anything (documented as not for production; doctor warns)", async () => {
    for (const query of ["sslmode=no-verify", "uselibpqcompat=true&sslmode=require"]) {
      const database = await openDatabase({ databaseUrl: server.url("127.0.0.1", query), dataDir: dir });
      try {
        expect(await encrypted(database), query).toBe(true);
      } finally {
        await database.close();
      }
    }
  });

  it("gatehouse migrate over DATABASE_MIGRATION_URL with verify-full and the CA file", async () => {
    const url = server.url("localhost", `sslmode=verify-full&sslrootcert=${server.caFile}`);
    const r = await gatehouse(["migrate"], { NODE_ENV: "test", GATEHOUSE_DATA_DIR: join(dir, "data"), DATABASE_URL: url, DATABASE_MIGRATION_URL: url }, dir);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/up to date|applied/);
    expect(r.code).toBe(0);
  });
});
