import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvFileError, loadEnvironment } from "../../src/config/env-file.js";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";

const KEY_IN_FILE = "f1e2d3c4b5a6978812345678abcdefabcdef0123456789aa";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-envfile-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeEnv(text: string, mode = 0o600, name = ".env"): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

/** The EnvFileError thrown by `fn` (fails the test when none is). */
function refusal(fn: () => unknown): EnvFileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EnvFileError);
    return err as EnvFileError;
  }
  throw new Error("expected an EnvFileError");
}

describe(".env in the working directory", () => {
  it("is read with Node's parser (comments, quotes, export) and feeds loadConfig", () => {
    writeEnv(`# settings\nPORT=9091\nexport LOG_LEVEL=warn\nSECRET_KEY="${KEY_IN_FILE}"\nGATEHOUSE_DATA_DIR=${dir}\n`);
    const loaded = loadEnvironment({}, dir);
    expect(loaded.path).toBe(join(dir, ".env"));
    const config = loadConfig(loaded.env);
    expect(config).toMatchObject({ port: 9091, logLevel: "warn", secretKey: KEY_IN_FILE });
    expect([...loaded.fromFile].sort()).toEqual(["GATEHOUSE_DATA_DIR", "LOG_LEVEL", "PORT", "SECRET_KEY"]);
  });

  it("the real environment always wins over the file, and is not counted as coming from it", () => {
    writeEnv("PORT=9091\nHOST=0.0.0.0\n");
    const loaded = loadEnvironment({ PORT: "7000" }, dir);
    expect(loaded.env.PORT).toBe("7000");
    expect(loaded.env.HOST).toBe("0.0.0.0");
    expect(loaded.fromFile.has("PORT")).toBe(false);
    expect(loaded.fromFile.has("HOST")).toBe(true);
  });

  it("no .env: the environment alone, nothing marked as from a file", () => {
    const loaded = loadEnvironment({ PORT: "7000" }, dir);
    expect(loaded).toEqual({ env: { PORT: "7000" }, path: null, fromFile: new Set() });
  });
});

describe("GATEHOUSE_ENV_FILE", () => {
  it("names another file (relative to the working directory); ./.env is then not read", () => {
    writeEnv("PORT=1111\n");
    writeEnv("PORT=2222\n", 0o600, "gatehouse.env");
    const loaded = loadEnvironment({ GATEHOUSE_ENV_FILE: "gatehouse.env" }, dir);
    expect(loaded.env.PORT).toBe("2222");
    expect(loaded.path).toBe(join(dir, "gatehouse.env"));
  });

  it("a named file that is missing is an error naming the variable and the path, in words", () => {
    const err = refusal(() => loadEnvironment({ GATEHOUSE_ENV_FILE: "/nonexistent/gatehouse.env" }, dir));
    expect(err.message).toBe("GATEHOUSE_ENV_FILE: cannot read /nonexistent/gatehouse.env: no such file");
  });
});

describe("attack: another local user reads the secrets in .env (production)", () => {
  const secretLine = `SECRET_KEY=${KEY_IN_FILE}\n`;

  for (const mode of [0o644, 0o604, 0o666, 0o660]) {
    it(`refuses a .env with mode ${mode.toString(8)} when NODE_ENV=production comes from the environment, without printing a value`, () => {
      writeEnv(secretLine, mode);
      const err = refusal(() => loadEnvironment({ NODE_ENV: "production" }, dir));
      expect(err.message).toContain(`mode 0${mode.toString(8)}`);
      expect(err.message).toContain("chmod 600");
      expect(err.message).not.toContain(KEY_IN_FILE);
    });
  }

  it("refuses it when NODE_ENV=production comes from the file itself", () => {
    writeEnv(`NODE_ENV=production\n${secretLine}`, 0o644);
    expect(refusal(() => loadEnvironment({}, dir)).message).toContain("readable by other users");
  });

  it("refuses a world-readable GATEHOUSE_ENV_FILE the same way", () => {
    writeEnv(secretLine, 0o644, "prod.env");
    refusal(() => loadEnvironment({ NODE_ENV: "production", GATEHOUSE_ENV_FILE: join(dir, "prod.env") }, dir));
  });

  for (const mode of [0o600, 0o640, 0o400]) {
    it(`accepts mode ${mode.toString(8)} in production`, () => {
      writeEnv(secretLine, mode);
      expect(loadEnvironment({ NODE_ENV: "production" }, dir).env.SECRET_KEY).toBe(KEY_IN_FILE);
    });
  }

  it("outside production a world-readable .env is read (development convenience)", () => {
    writeEnv("PORT=9092\n", 0o644);
    expect(loadEnvironment({}, dir).env.PORT).toBe("9092");
  });
});

describe("*_FILE variables", () => {
  it("a missing password file gives a clear message: the variable, the path and the reason, no stack", () => {
    let err: unknown;
    try {
      loadConfig({ GATEHOUSE_DATA_DIR: dir, SECRET_KEY: KEY_IN_FILE, GATEHOUSE_ADMIN_USERNAME: "root", GATEHOUSE_ADMIN_PASSWORD_FILE: "/x/y" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toContain("GATEHOUSE_ADMIN_PASSWORD_FILE: cannot read /x/y: no such file");
    expect((err as ConfigError).message).not.toMatch(/ENOENT|at .*\.ts/);
  });
});
