import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { gatehouse } from "../helpers/run-gatehouse.js";

const OPERATOR = "sk-cli-rotate-operator-0123456789";
const OWN = "sk-cli-rotate-own-9876543210abcdef";

describe("gatehouse keys rotate keeps every vault secret readable", () => {
  let dir: string;
  let base: Record<string, string>;
  let keyring: string;
  let userId: string;

  async function withGatehouse<T>(env: Record<string, string>, fn: (gh: Awaited<ReturnType<typeof createGatehouse>>) => Promise<T>): Promise<T> {
    const gh = await createGatehouse({ config: loadConfig({ NODE_ENV: "test", ...env }), logger: pino({ level: "silent" }) });
    try {
      return await fn(gh);
    } finally {
      await gh.close();
    }
  }
  const rendered = (env: Record<string, string>) =>
    withGatehouse(env, async (gh) =>
      Object.fromEntries(
        await gh.vault.render(
          [
            { header: "authorization", template: { parts: [{ text: "Bearer " }, { secret: "openai" }] } },
            { header: "x-own", template: { parts: [{ userSecret: "mine" }] } },
          ],
          userId,
        ),
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-rotate-"));
    mkdirSync(join(dir, "etc"), { mode: 0o700 });
    keyring = join(dir, "etc", "keyring.json");
    writeFileSync(join(dir, "rules.yml"), 'access_control:\n  default_policy: one_factor\nupstreams:\n  - domain: app.test\n    url: http://127.0.0.1:9\n    inject_headers:\n      X-Own: "${user_secret:mine}"\n');
    base = { GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: randomBytes(32).toString("hex"), LOG_LEVEL: "silent", NODE_ENV: "test", GATEHOUSE_CONFIG: join(dir, "rules.yml") };
    // Stored before any keyring file exists: under k0, the key derived from SECRET_KEY.
    userId = await withGatehouse(base, async (gh) => {
      const origin = { ip: "192.0.2.1", userAgent: "test" };
      const { user } = await gh.accounts.register({ username: "keyowner", password: GOOD_PASSWORD, email: "key.owner@example.test" }, origin, { role: "user", signIn: false });
      await gh.vault.set("openai", OPERATOR, { userId: null, origin });
      await gh.vault.setOwn(user.id, "mine", OWN, origin);
      return user.id;
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("rotate re-encrypts both vault tables under the new key; the values still render, also once the old key is gone", async () => {
    expect(await rendered(base)).toEqual({ authorization: `Bearer ${OPERATOR}`, "x-own": OWN });
    const r = await gatehouse(["keys", "rotate"], { ...base, KEYRING_FILE: keyring }, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("vault_secrets.secret_envelope: 1 row(s), 1 re-encrypted, 0 unreadable");
    expect(r.stderr).toContain("user_vault_secrets.secret_envelope: 1 row(s), 1 re-encrypted, 0 unreadable");
    expect(`${r.stdout}${r.stderr}`).not.toContain(OPERATOR);
    const status = await gatehouse(["keys", "status"], { ...base, KEYRING_FILE: keyring }, dir);
    expect(status.stdout).toContain("vault_secrets.secret_envelope: 1 under k1");
    expect(status.stdout).toContain("user_vault_secrets.secret_envelope: 1 under k1");
    const withRing = { ...base, KEYRING_FILE: keyring };
    await withGatehouse(withRing, async (gh) => {
      const rows = await gh.database.db.selectFrom("vault_secrets").select("secret_envelope").execute();
      expect(rows.map((x) => envelopeKeyId(x.secret_envelope))).toEqual(["k1"]);
    });
    expect(await rendered(withRing)).toEqual({ authorization: `Bearer ${OPERATOR}`, "x-own": OWN });
    const ring = JSON.parse(readFileSync(keyring, "utf8")) as { keys: { id: string }[] };
    writeFileSync(keyring, JSON.stringify({ format: "gatehouse-keyring", version: 1, active: "k1", keys: ring.keys.filter((k) => k.id === "k1") }), { mode: 0o600 });
    expect(await rendered(withRing)).toEqual({ authorization: `Bearer ${OPERATOR}`, "x-own": OWN });
  });
});
