import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditLog } from "../../src/core/audit/audit-log.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { cryptoRandom } from "../../src/core/random.js";
import { parseImportMapping } from "../../src/core/user-import/import-mapping.js";
import type { ImportedUser } from "../../src/core/user-import/plan-user-import.js";
import { readImportFile } from "../../src/core/user-import/read-import-file.js";
import { createUserImportService } from "../../src/core/user-import/user-import-service.js";
import type { UserImportStore } from "../../src/core/user-import/user-import-store.js";
import { createSqlStores } from "../../src/storage/sql/create-sql-stores.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { createSqlUserImportStore } from "../../src/storage/sql/sql-user-import-store.js";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { newUser } from "../helpers/conformance.js";

const imported = (name: string, row: number): ImportedUser & { id: string } => ({
  id: randomUUID(),
  row,
  username: name,
  usernameNormalized: name.toLowerCase(),
  email: `${name}@example.test`,
  emailNormalized: `${name.toLowerCase()}@example.test`,
  passwordHash: null,
  scheme: null,
  role: "user",
  blocked: false,
  emailVerified: false,
});

describe.each(backendNames())("the user import's one transaction (%s)", (backendName) => {
  let backend: Backend;
  let database: OpenDatabase;
  let store: UserImportStore;
  const count = async () => Number((await database.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    backend = await createBackend(backendName);
    const url = backend.schema ? `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}` : null;
    database = await openDatabase({ databaseUrl: url, dataDir: backend.env.GATEHOUSE_DATA_DIR! });
    store = createSqlUserImportStore(database.db);
  });
  afterAll(async () => {
    await database?.close();
    await backend?.cleanup();
  });

  it("inserts 450 users across several statements, all in one go", async () => {
    const users = Array.from({ length: 450 }, (_, i) => imported(`bulk${i}`, i + 1));
    expect(await store.insertAll(users, 1_767_225_600_000)).toEqual({ ok: true });
    expect(await count()).toBe(450);
    const taken = await store.takenLogins(["bulk0", "bulk449", "nobody"], ["bulk3@example.test", "x@example.test"]);
    expect([...taken.usernames].sort()).toEqual(["bulk0", "bulk449"]);
    expect([...taken.emails]).toEqual(["bulk3@example.test"]);
  });

  it("a name taken meanwhile (a registration between the dry run and the insert) rolls back every row, also those of earlier statements", async () => {
    await createSqlStores(database.db).users.insert(newUser("racer"));
    const before = await count();
    const users = [...Array.from({ length: 250 }, (_, i) => imported(`early${i}`, i + 1)), { ...imported("Racer", 251), email: "other@example.test", emailNormalized: "other@example.test" }];
    expect(await store.insertAll(users, 1_767_225_600_000)).toEqual({ ok: false, conflict: "username_taken" });
    const sameEmail = { ...imported("late", 1), email: "racer@Example.test", emailNormalized: "racer@example.test" };
    expect(await store.insertAll([imported("late0", 1), sameEmail], 1_767_225_600_000)).toEqual({ ok: false, conflict: "email_taken" });
    expect(await count()).toBe(before);
  });

  it("the service answers 409 import_conflict and records no audit event when the insert is refused", async () => {
    const recorded: unknown[] = [];
    const audit = { record: async (e: unknown) => recorded.push(e) } as unknown as AuditLog;
    const racing: UserImportStore = { takenLogins: (u, e) => store.takenLogins(u, e), insertAll: async () => ({ ok: false, conflict: "username_taken" }) };
    const service = createUserImportService({ store: racing, audit, clock: { now: () => 1_767_225_600_000 }, random: cryptoRandom });
    const table = readImportFile(Buffer.from("login\nfresh1\nfresh2\n"), "csv");
    const source = { format: "csv", kind: "file", sha256: "0".repeat(64), bytes: 20 } as const;
    const err = await service.importUsers(table, parseImportMapping({ map: "username=login" }), { apply: true, source, actor: { actorId: null, ip: "local", userAgent: "test" } }).catch((e: unknown) => e);
    expect(isGatehouseError(err, "import_conflict")).toBe(true);
    expect(recorded).toHaveLength(0);
  });
});
