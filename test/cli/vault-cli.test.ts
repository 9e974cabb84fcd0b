import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { gatehouse } from "../helpers/run-gatehouse.js";

const VALUE = "whsec-cli-0123456789abcdefghij";

describe("gatehouse vault list | set | delete", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = async (...args: string[]) => {
    const r = await gatehouse(args, env, dir);
    // A value is never printed, whatever the command.
    expect(`${r.stdout}${r.stderr}`).not.toContain(VALUE.slice(4));
    return r;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-cli-"));
    env = { GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: randomBytes(32).toString("hex"), LOG_LEVEL: "silent", NODE_ENV: "test" };
    writeFileSync(join(dir, "value.txt"), `${VALUE}\n`, { mode: 0o600 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("set reads the value from a file (never argv), list shows the prefix only, delete removes it; every change audited via cli", async () => {
    const set = await run("vault", "set", "webhook", "--value-file", "value.txt");
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe("stored webhook (whse…)\n");
    expect((await run("vault", "set", "webhook", "--value-file", "value.txt")).stdout).toBe("replaced webhook (whse…)\n");
    const list = await run("vault", "list");
    expect(list.stdout).toMatch(/^webhook\s+whse…\s+\d{4}-\d\d-\d\dT.*\n1 secret\(s\)\n$/);

    const gh = await createGatehouse({ config: loadConfig({ NODE_ENV: "test", ...env }), logger: pino({ level: "silent" }) });
    try {
      const rendered = await gh.vault.render([{ header: "x-hook", template: { parts: [{ secret: "webhook" }] } }], null);
      expect(rendered.get("x-hook")).toBe(VALUE);
      const events = await gh.stores.audit.list({ type: "secret_changed", limit: 10 });
      expect(events.map((e) => e.details)).toEqual([
        { name: "webhook", action: "updated", scope: "global", via: "cli" },
        { name: "webhook", action: "created", scope: "global", via: "cli" },
      ]);
    } finally {
      await gh.close();
    }

    expect((await run("vault", "delete", "webhook")).stdout).toBe("deleted webhook\n");
    const again = await run("vault", "delete", "webhook");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("not_found");
  });

  it("a value on the command line is refused (usage), as are bad names", async () => {
    const argv = await gatehouse(["vault", "set", "webhook", "sk-on-the-command-line"], env, dir);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toContain("never the command line");
    const bad = await run("vault", "set", "Bad.Name", "--value-file", "value.txt");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("[name]");
  });
});
