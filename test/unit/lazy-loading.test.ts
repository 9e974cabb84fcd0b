import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/** Runs an ES module snippet in a fresh Node process (tsx), where nothing is loaded yet; returns its stdout lines. */
function fresh(code: string): string[] {
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout.trim().split("\n");
}

const loaded = (name: string) => `Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes(${JSON.stringify(`/node_modules/${name}/`)}))`;

describe("libraries an idle server does not need are loaded on first use (docs/performance.md)", () => {
  it("the common-password list: not loaded at start, and the very first check refuses a common password", () => {
    const out = fresh(`
      import { createRequire } from "node:module";
      const { checkNewPassword, defaultPasswordPolicy } = await import("./src/core/passwords/password-policy.ts");
      console.log(${loaded("@zxcvbn-ts/language-common")});
      console.log(checkNewPassword("qwertyuiop123", {}, defaultPasswordPolicy));
      console.log(${loaded("@zxcvbn-ts/language-common")});
    `);
    expect(out).toEqual(["false", "password_common", "true"]);
  });

  it("the reverse proxy's HTTP client, the main thread's Argon2, the QR-code renderer, the WebAuthn library, the OpenID Connect client (no provider configured) and the Prometheus client (METRICS off): not loaded by building the whole app", () => {
    const out = fresh(`
      import { createRequire } from "node:module";
      import { mkdtempSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { randomBytes } from "node:crypto";
      import pino from "pino";
      const { createGatehouse } = await import("./src/compose.ts");
      const { loadConfig } = await import("./src/config/load-config.ts");
      const config = loadConfig({ NODE_ENV: "test", GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-lazy-")), SECRET_KEY: randomBytes(32).toString("hex") });
      const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
      await gh.app.ready();
      console.log(${loaded("@fastify/reply-from")}, ${loaded("undici")}, ${loaded("@node-rs/argon2")}, ${loaded("qrcode")}, ${loaded("@simplewebauthn/server")}, ${loaded("openid-client")}, ${loaded("prom-client")});
      await gh.close();
    `);
    expect(out).toEqual(["false false false false false false false"]);
  });

  it("the upload guard's image library (sharp): not loaded by building the whole app with an upload rule, loaded by the first image it cleans", () => {
    const out = fresh(`
      import { createRequire } from "node:module";
      import { mkdtempSync, writeFileSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { randomBytes } from "node:crypto";
      import pino from "pino";
      const { createGatehouse } = await import("./src/compose.ts");
      const { loadConfig } = await import("./src/config/load-config.ts");
      const dir = mkdtempSync(join(tmpdir(), "gatehouse-lazy-"));
      writeFileSync(join(dir, "rules.yml"), "access_control:\\n  rules:\\n    - domain: app.test\\n      policy: bypass\\n      uploads: { max_size: 1MB, strip_metadata: true }\\n");
      const config = loadConfig({ NODE_ENV: "test", GATEHOUSE_DATA_DIR: dir, SECRET_KEY: randomBytes(32).toString("hex"), UPSTREAM_URL: "http://127.0.0.1:9", GATEHOUSE_CONFIG: join(dir, "rules.yml") });
      const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
      await gh.app.ready();
      console.log(${loaded("sharp")}, ${loaded("busboy")});
      const { stripImageMetadata } = await import("./src/uploads/strip-metadata.ts");
      console.log((await stripImageMetadata(Buffer.from("not an image"), "image/png", 100)).ok, ${loaded("sharp")});
      await gh.close();
    `);
    expect(out).toEqual(["false false", "false true"]);
  });

  it("the Prometheus client is loaded with METRICS=on (and its default metrics collected)", () => {
    const out = fresh(`
      import { createRequire } from "node:module";
      import { mkdtempSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { randomBytes } from "node:crypto";
      import pino from "pino";
      const { createGatehouse } = await import("./src/compose.ts");
      const { loadConfig } = await import("./src/config/load-config.ts");
      const config = loadConfig({ NODE_ENV: "test", METRICS: "on", GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-lazy-")), SECRET_KEY: randomBytes(32).toString("hex") });
      const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
      await gh.app.ready();
      console.log(${loaded("prom-client")});
      await gh.close();
    `);
    expect(out).toEqual(["true"]);
  });
});
