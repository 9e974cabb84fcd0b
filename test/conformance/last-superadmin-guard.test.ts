import { createRequire } from "node:module";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GuardedUserChange } from "../../src/core/users/user-store.js";
import { backendNames, PG_URL } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const AT = 1_767_225_700_000;
let seq = 0;

/**
 * Holds a demotion of `id` uncommitted in another connection (another
 * process's, as far as the store can tell) for `holdMs`, then commits it.
 * Resolves once the other connection holds its lock.
 */
async function demoteElsewhere(fx: StoreFixture, id: string, holdMs: number): Promise<{ committed: Promise<void> }> {
  if (fx.backend.name === "postgres") {
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${fx.backend.schema}` });
    await client.connect();
    await client.query("begin");
    await client.query("update users set role = 'user' where id = $1", [id]);
    const committed = new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        client
          .query("commit")
          .then(() => client.end())
          .then(resolve, reject);
      }, holdMs);
    });
    return { committed };
  }
  // SQLite: a second connection on its own thread (better-sqlite3 blocks the thread it runs on), like the CLI's process.
  const file = join(fx.backend.env.GATEHOUSE_DATA_DIR!, "gatehouse.db");
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const Database = require(workerData.driver);
     const db = new Database(workerData.file);
     db.pragma("busy_timeout = 5000");
     db.prepare("begin immediate").run();
     db.prepare("update users set role = 'user' where id = ?").run(workerData.id);
     parentPort.postMessage("locked");
     setTimeout(() => { db.prepare("commit").run(); db.close(); parentPort.postMessage("committed"); }, workerData.holdMs);`,
    { eval: true, workerData: { driver, file, id, holdMs } },
  );
  const messages: string[] = [];
  const waiters: { want: string; resolve: () => void }[] = [];
  worker.on("message", (m: string) => {
    messages.push(m);
    for (const w of waiters.filter((x) => x.want === m)) w.resolve();
  });
  const when = (want: string) =>
    new Promise<void>((resolve, reject) => {
      if (messages.includes(want)) return resolve();
      waiters.push({ want, resolve });
      worker.once("error", reject);
    });
  await when("locked");
  return { committed: when("committed").then(() => worker.terminate().then(() => undefined)) };
}

describe.each(backendNames())("UserStore.changeGuardingLastSuperadmin conformance (%s)", (backendName) => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStores(backendName);
  });
  afterAll(async () => fx?.close());

  /** Fresh superadmins (and a user), with nobody else holding the role. */
  async function bosses(n: number) {
    await fx.database.db.updateTable("users").set({ role: "user" }).where("role", "=", "superadmin").execute();
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const u = newUser(`boss${++seq}`, { role: "superadmin" });
      await fx.stores.users.insert(u);
      ids.push(u.id);
    }
    const plain = newUser(`plain${++seq}`);
    await fx.stores.users.insert(plain);
    return { ids, plain: plain.id };
  }

  async function active(): Promise<number> {
    return (await fx.database.db.selectFrom("users").select("id").where("role", "=", "superadmin").where("blocked", "=", 0).execute()).length;
  }

  const guard = (id: string, change: GuardedUserChange) => fx.stores.users.changeGuardingLastSuperadmin(id, change, AT);

  it("refuses to demote, block or delete the only active superadmin, and changes nothing", async () => {
    const { ids } = await bosses(1);
    const id = ids[0]!;
    const before = await fx.stores.users.findById(id);
    for (const change of [{ kind: "update", role: "admin" }, { kind: "update", role: "user" }, { kind: "update", blocked: true }, { kind: "delete" }] as const) {
      expect(await guard(id, change), JSON.stringify(change)).toBe("last_superadmin");
    }
    expect(await fx.stores.users.findById(id)).toEqual(before);
  });

  it("a blocked superadmin does not count as the one that remains", async () => {
    const { ids } = await bosses(2);
    await fx.stores.users.update(ids[1]!, { blocked: true }, AT);
    expect(await guard(ids[0]!, { kind: "update", role: "admin" })).toBe("last_superadmin");
    expect(await active()).toBe(1);
  });

  it("applies a removal while another active superadmin remains, with updatedAt", async () => {
    const { ids } = await bosses(3);
    expect(await guard(ids[0]!, { kind: "update", role: "admin" })).toBe("done");
    expect(await fx.stores.users.findById(ids[0]!)).toMatchObject({ role: "admin", updatedAt: AT });
    expect(await guard(ids[1]!, { kind: "update", blocked: true })).toBe("done");
    expect((await fx.stores.users.findById(ids[1]!))?.blocked).toBe(true);
    expect(await guard(ids[2]!, { kind: "delete" })).toBe("last_superadmin");
    expect(await active()).toBe(1);
  });

  it("applies changes that remove no active superadmin, even when there is none", async () => {
    const { ids, plain } = await bosses(1);
    expect(await guard(plain, { kind: "update", role: "admin" })).toBe("done");
    expect(await guard(plain, { kind: "update", blocked: true })).toBe("done");
    expect(await guard(plain, { kind: "update", role: "superadmin", blocked: false })).toBe("done");
    expect(await guard(ids[0]!, { kind: "update", role: "superadmin", blocked: false })).toBe("done");
    expect(await guard(plain, { kind: "delete" })).toBe("done");
    expect(await fx.stores.users.findById(plain)).toBeNull();
    await fx.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", ids[0]!).execute();
    expect(await active()).toBe(0);
    expect(await guard(ids[0]!, { kind: "update", blocked: false })).toBe("done");
    expect(await active()).toBe(1);
  });

  it("answers not_found for an unknown id", async () => {
    await bosses(1);
    expect(await guard("00000000-0000-4000-8000-000000000000", { kind: "delete" })).toBe("not_found");
    expect(await guard("00000000-0000-4000-8000-000000000000", { kind: "update", blocked: true })).toBe("not_found");
  });

  it("of two removals started together, exactly one applies (20 rounds)", async () => {
    for (let round = 0; round < 20; round++) {
      const { ids } = await bosses(2);
      const changes: [string, GuardedUserChange][] = [
        [ids[0]!, round % 2 === 0 ? { kind: "update", role: "admin" } : { kind: "delete" }],
        [ids[1]!, round % 3 === 0 ? { kind: "update", blocked: true } : { kind: "update", role: "user" }],
      ];
      const results = await Promise.all(changes.map(([id, change]) => guard(id, change)));
      expect(results.sort(), `round ${round}`).toEqual(["done", "last_superadmin"]);
      expect(await active(), `round ${round}`).toBe(1);
    }
  });

  it("waits for a demotion another connection holds uncommitted, then sees it and refuses", async () => {
    const { ids } = await bosses(2);
    const other = await demoteElsewhere(fx, ids[1]!, 300);
    const started = performance.now();
    const result = await guard(ids[0]!, { kind: "update", role: "admin" });
    await other.committed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(200);
    expect(result).toBe("last_superadmin");
    expect((await fx.stores.users.findById(ids[1]!))?.role).toBe("user");
    expect(await active()).toBe(1);
  });
});
