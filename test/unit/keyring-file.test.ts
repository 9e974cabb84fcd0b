import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { derivedKeyringFile, keyringOf, keyringSource, readKeyringFile, writeKeyringFile } from "../../src/config/keyring-file.js";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { deriveKey } from "../../src/core/crypto/derive-key.js";

const GOOD_KEY = "3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf0246813579bdf02468ace";
const KEY_A = randomBytes(32).toString("base64");
const KEY_B = randomBytes(32).toString("base64");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-keyring-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>) => loadConfig({ GATEHOUSE_DATA_DIR: dir, SECRET_KEY: GOOD_KEY, ...env });
function keyringFile(doc: unknown, mode = 0o600): string {
  const path = join(dir, `keyring-${randomBytes(4).toString("hex")}.json`);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc), { mode });
  chmodSync(path, mode);
  return path;
}
const good = { format: "gatehouse-keyring", version: 1, active: "k1", keys: [{ id: "k0", key: KEY_A, created: "2026-01-01T00:00:00.000Z" }, { id: "k1", key: KEY_B }] };
function problem(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as ConfigError).problems.join("\n");
    for (const key of [KEY_A, KEY_B]) expect(text).not.toContain(key);
    return text;
  }
  throw new Error("expected a ConfigError");
}

describe("the keyring: KEYRING_FILE or the key derived from SECRET_KEY", () => {
  it("without KEYRING_FILE there is one key, k0, derived from SECRET_KEY with HKDF (purpose secrets-at-rest)", () => {
    const config = load({});
    expect(config.keyring).toEqual({ file: null, activeId: "k0", keys: [{ id: "k0", key: deriveKey(GOOD_KEY, "secrets-at-rest").toString("base64") }] });
    expect(keyringOf(config.keyring).keys.get("k0")!.equals(deriveKey(GOOD_KEY, "secrets-at-rest"))).toBe(true);
  });

  it("a valid keyring file (mode 0600) gives its keys and active id", () => {
    const path = keyringFile(good);
    const config = load({ KEYRING_FILE: path });
    expect(config.keyring).toEqual({ file: path, activeId: "k1", keys: [{ id: "k0", key: KEY_A }, { id: "k1", key: KEY_B }] });
  });

  it("a keyring file its group or other users can read or write stops the start, with the chmod to run", () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o660]) {
      const path = keyringFile(good, mode);
      expect(problem({ KEYRING_FILE: path })).toBe(
        `KEYRING_FILE: ${path} is readable or writable by other users or its group (mode ${mode.toString(8).padStart(4, "0")}); it holds the data keys: chmod 600 ${path}`,
      );
    }
    expect(() => load({ KEYRING_FILE: keyringFile(good, 0o400) })).not.toThrow();
  });

  it("a missing file, a directory, invalid JSON or a wrong shape stops the start with a clear reason", () => {
    expect(problem({ KEYRING_FILE: join(dir, "absent.json") })).toMatch(/^KEYRING_FILE: cannot read .*absent\.json: /);
    expect(problem({ KEYRING_FILE: dir })).toMatch(/^KEYRING_FILE: cannot read /);
    expect(problem({ KEYRING_FILE: keyringFile(`{"format":"gatehouse-keyring",`) })).toMatch(/is not valid JSON/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, format: "other" }) })).toMatch(/is not a keyring file/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, keys: "k0" }) })).toMatch(/"keys" a list/);
  });

  it("a short key, a bad id, a duplicate id or an active id that is not listed stops the start, never echoing a key", () => {
    const short = randomBytes(31).toString("base64");
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, keys: [{ id: "k0", key: short }] , active: "k0" }) })).toMatch(/key "k0" must be 32 bytes in base64/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, keys: [{ id: "k.0", key: KEY_A }], active: "k.0" }) })).toMatch(/keys\[0\]\.id must be/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, keys: [{ id: "k0", key: KEY_A }, { id: "k0", key: KEY_B }], active: "k0" }) })).toMatch(/"k0" appears twice/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, active: "k7" }) })).toMatch(/active key "k7" is not in the keyring/);
    expect(problem({ KEYRING_FILE: keyringFile({ ...good, keys: [], active: "k0" }) })).toMatch(/at least one key/);
  });

  it("writeKeyringFile writes mode 0600 atomically (no temporary file left) and reads back", () => {
    const path = join(dir, "ring.json");
    writeKeyringFile(path, derivedKeyringFile(GOOD_KEY, new Date(0)));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readKeyringFile(path)).toEqual({ active: "k0", keys: [{ id: "k0", key: deriveKey(GOOD_KEY, "secrets-at-rest").toString("base64"), created: "1970-01-01T00:00:00.000Z" }] });
    writeKeyringFile(path, { active: "k1", keys: [{ id: "k0", key: KEY_A, created: null }, { id: "k1", key: KEY_B, created: null }] });
    expect(readKeyringFile(path).active).toBe("k1");
    expect(readdirSync(dir)).toEqual(["ring.json"]);
  });

  it("a server's keyring source re-reads the file when asked (a rotation by the CLI), and keeps its keys when the file went bad", () => {
    const path = join(dir, "ring.json");
    writeKeyringFile(path, { active: "k0", keys: [{ id: "k0", key: KEY_A, created: null }] });
    const errors: string[] = [];
    let clock = 1_000_000;
    const source = keyringSource(load({ KEYRING_FILE: path }).keyring, (err) => errors.push(err.message), () => clock);
    expect(source.current().activeId).toBe("k0");
    writeKeyringFile(join(dir, "next.json"), { active: "k1", keys: [{ id: "k0", key: KEY_A, created: null }, { id: "k1", key: KEY_B, created: null }] });
    rmSync(path);
    writeKeyringFile(path, readKeyringFile(join(dir, "next.json")));
    expect(source.refresh!()?.activeId).toBe("k1");
    expect(source.current().keys.has("k1")).toBe(true);
    clock += 999;
    expect(source.refresh!()).toBeNull(); // at most once a second
    expect(errors).toEqual([]);
    clock += 1;
    chmodSync(path, 0o644);
    expect(source.refresh!()).toBeNull();
    expect(source.current().activeId).toBe("k1");
    expect(errors).toEqual([expect.stringContaining("chmod 600")]);
    expect(keyringSource(load({}).keyring).refresh).toBeUndefined();
  });
});
