import { execFile } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./processes.js";

const run = promisify(execFile);

/** A private PostgreSQL cluster that offers TLS with a certificate for `localhost` signed by a throwaway CA. */
export interface TlsPostgres {
  port: number;
  /** PEM file of the CA that signed the server certificate. */
  caFile: string;
  /** PEM file of another CA, which signed nothing here. */
  otherCaFile: string;
  url(host: string, query: string): string;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory (Debian layout). */
function pgBin(): string {
  const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error("no PostgreSQL under /usr/lib/postgresql");
  return join("/usr/lib/postgresql", versions[0]!, "bin");
}

/**
 * initdb + pg_ctl start with `ssl=on`, listening on localhost only. PostgreSQL
 * refuses to run as root: as root the cluster belongs to the `postgres` user.
 */
export async function startTlsPostgres(): Promise<TlsPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-tls-pg-"));
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? await run("id", ["-u", "postgres"]).then(async (u) => ({ uid: Number(u.stdout.trim()), gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()) })) : null;
  const pgRun = (cmd: string, args: string[]) => (asRoot ? run("runuser", ["-u", "postgres", "--", join(pgBin(), cmd), ...args]) : run(join(pgBin(), cmd), args));
  const ssl = (args: string[]) => run("openssl", args, { cwd: dir });
  const data = join(dir, "data");
  try {
    await ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Gatehouse test CA", "-keyout", "ca.key", "-out", "ca.pem"]);
    await ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Unrelated test CA", "-keyout", "other.key", "-out", "other-ca.pem"]);
    await ssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"]);
    writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost\n");
    await ssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem"]);
    chmodSync(join(dir, "server.key"), 0o600);
    if (ids) {
      chmodSync(dir, 0o755);
      for (const f of ["server.key", "server.pem"]) chownSync(join(dir, f), ids.uid, ids.gid);
      chownSync(dir, ids.uid, ids.gid);
    }
    await pgRun("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
    const port = await freePort();
    const options = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses=localhost", "-c ssl=on", `-c ssl_cert_file=${join(dir, "server.pem")}`, `-c ssl_key_file=${join(dir, "server.key")}`, "-c fsync=off"].join(" ");
    await pgRun("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]);
    return {
      port,
      caFile: join(dir, "ca.pem"),
      otherCaFile: join(dir, "other-ca.pem"),
      url: (host, query) => `postgres://postgres@${host}:${port}/postgres${query ? `?${query}` : ""}`,
      async stop() {
        await pgRun("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await pgRun("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
