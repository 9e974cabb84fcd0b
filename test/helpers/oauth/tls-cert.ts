import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away certificate (its own CA) for a test identity provider on 127.0.0.1 and localhost. */
export interface TestCertificate {
  /** The PEM certificate; also the CA to trust (`ca_file`). */
  cert: string;
  key: string;
  /** Path of the PEM certificate file, for a provider's `ca_file`. */
  certFile: string;
}

/** Makes a self-signed P-256 certificate for `127.0.0.1`, `::1` and `localhost` with openssl (2 days). */
export function testCertificate(commonName = "test-idp"): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-idp-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const res = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", `/CN=${commonName}`, "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"],
    { encoding: "utf8" },
  );
  if (res.status !== 0) throw new Error(`openssl could not make a test certificate: ${res.error?.message ?? res.stderr}`);
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), certFile };
}
