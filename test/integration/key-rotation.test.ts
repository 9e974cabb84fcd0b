import { createCipheriv, randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { createMailSealer } from "../../src/core/mail/mail-sealer.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring, type Keyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { createUserSecrets, type UserSecrets } from "../../src/core/secrets/user-secrets.js";
import { countSecretsByKey, rewrapSecrets } from "../../src/storage/sql/rewrap-secrets.js";
import { backendNames } from "../helpers/backends.js";
import { newUser, openStores, type StoreFixture } from "../helpers/conformance.js";

const K0 = { id: "k0", key: randomBytes(32) };
const K1 = { id: "k1", key: randomBytes(32) };
const ROWS = 130;

describe.each(backendNames())("key rotation round trip (%s)", (backendName) => {
  let fx: StoreFixture;
  const plaintexts = new Map<string, string>();
  const clock = createManualClock();
  const box = (ring: Keyring) => createSecretBox({ current: () => ring }, cryptoRandom);
  const secretsUnder = (ring: Keyring): UserSecrets => createUserSecrets({ store: fx.stores.userSecrets, box: box(ring), clock, random: cryptoRandom });
  const envelopes = async () => fx.database.db.selectFrom("user_secrets").select(["user_id", "kind", "secret_envelope", "updated_at"]).orderBy("id").execute();

  beforeAll(async () => {
    fx = await openStores(backendName);
    const before = secretsUnder(createKeyring("k0", [K0]));
    for (let i = 0; i < ROWS; i++) {
      const u = newUser(`rotating${i}`);
      await fx.stores.users.insert(u);
      const seed = `seed-${i}-${randomBytes(8).toString("hex")}`;
      plaintexts.set(u.id, seed);
      await before.set(u.id, "totp", seed);
    }
  });
  afterAll(async () => fx?.close());

  it("rotate: every row is re-encrypted under the new key in batches, keeps its value and its updated_at", async () => {
    const rowsBefore = await envelopes();
    expect(rowsBefore.every((r) => envelopeKeyId(r.secret_envelope) === "k0")).toBe(true);
    const rotated = createKeyring("k1", [K0, K1]);
    const [report] = await rewrapSecrets(fx.database.db, box(rotated), { batchSize: 50 });
    expect(report).toEqual({ table: "user_secrets", column: "secret_envelope", rows: ROWS, rewrapped: ROWS, unreadable: 0, problems: [] });
    const rowsAfter = await envelopes();
    expect(rowsAfter.map((r) => envelopeKeyId(r.secret_envelope))).toEqual(Array(ROWS).fill("k1"));
    expect(rowsAfter.map((r) => Number(r.updated_at))).toEqual(rowsBefore.map((r) => Number(r.updated_at)));
    expect(await countSecretsByKey(fx.database.db)).toEqual([
      { table: "user_secrets", column: "secret_envelope", byKey: { k1: ROWS } },
      { table: "mail_outbox", column: "payload", byKey: {} },
      { table: "signing_keys", column: "private_jwk", byKey: {} },
      { table: "vault_secrets", column: "secret_envelope", byKey: {} },
      { table: "user_vault_secrets", column: "secret_envelope", byKey: {} },
    ]);
    // A second run finds nothing to do.
    expect((await rewrapSecrets(fx.database.db, box(rotated)))[0]).toMatchObject({ rows: ROWS, rewrapped: 0 });
  });

  it("after the rotation the old key can be removed: everything still decrypts with the new key alone", async () => {
    const onlyNew = secretsUnder(createKeyring("k1", [K1]));
    for (const [userId, seed] of plaintexts) expect(await onlyNew.get(userId, "totp")).toBe(seed);
  });

  it("an old keyring without the new key fails closed: reads are refused with secret_unreadable, a rewrap leaves every row untouched", async () => {
    const stale = secretsUnder(createKeyring("k0", [K0]));
    const [userId] = [...plaintexts.keys()];
    const err = await stale.get(userId!, "totp").catch((e: unknown) => e);
    expect(isGatehouseError(err, "secret_unreadable")).toBe(true);
    expect(String((err as Error).cause)).toContain(`sealed under key "k1", which is not in the keyring (known: k0)`);
    const before = await envelopes();
    const [report] = await rewrapSecrets(fx.database.db, box(createKeyring("k0", [K0])));
    expect(report).toMatchObject({ rows: ROWS, rewrapped: 0, unreadable: ROWS });
    expect(report!.problems).toHaveLength(5);
    expect(await envelopes()).toEqual(before);
  });

  it("a secret written under an old key by a process that has not reloaded is re-encrypted when read", async () => {
    const [userId, seed] = [...plaintexts.entries()][1]!;
    await secretsUnder(createKeyring("k0", [K0])).set(userId, "totp", seed);
    const find = async () => (await fx.stores.userSecrets.find(userId, "totp"))!.envelope;
    expect(envelopeKeyId(await find())).toBe("k0");
    expect(await secretsUnder(createKeyring("k1", [K0, K1])).get(userId, "totp")).toBe(seed);
    expect(envelopeKeyId(await find())).toBe("k1");
  });

  it("a rewrap skips a row it cannot decrypt (altered in the database) and re-encrypts the others", async () => {
    const [a, b] = [...plaintexts.keys()].slice(2, 4) as [string, string];
    const ring0 = createKeyring("k0", [K0]);
    await secretsUnder(ring0).set(a, "totp", plaintexts.get(a)!);
    await secretsUnder(ring0).set(b, "totp", plaintexts.get(b)!);
    const tampered = (await fx.stores.userSecrets.find(a, "totp"))!.envelope.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
    await fx.database.db.updateTable("user_secrets").set({ secret_envelope: tampered }).where("user_id", "=", a).execute();
    const [report] = await rewrapSecrets(fx.database.db, box(createKeyring("k1", [K0, K1])));
    expect(report).toMatchObject({ rewrapped: 1, unreadable: 1 });
    expect(report!.problems[0]).toContain(`${a}/totp`);
    expect((await fx.stores.userSecrets.find(a, "totp"))!.envelope).toBe(tampered);
    expect(envelopeKeyId((await fx.stores.userSecrets.find(b, "totp"))!.envelope)).toBe("k1");
  });

  it("queued mail is re-encrypted by a rotation and still sends; a sent mail's blanked payload and a mail queued before the keyring are left alone", async () => {
    const message = { to: "alice@example.test", subject: "Reset your password", text: "https://auth.example.test/reset#token=live", html: "<p>live</p>" };
    const legacyKey = randomBytes(32);
    const queued = { id: randomUUID(), kind: "password_reset" as const, createdAt: clock.now() };
    await fx.stores.outbox.enqueue({ ...queued, payload: createMailSealer(box(createKeyring("k0", [K0])), legacyKey).seal(queued.id, message) });
    const sent = { id: randomUUID(), kind: "password_reset" as const, createdAt: clock.now() };
    await fx.stores.outbox.enqueue({ ...sent, payload: "" });
    const old = { id: randomUUID(), kind: "password_reset" as const, createdAt: clock.now() };
    const legacyPayload = sealLegacy(legacyKey, old.id, message);
    await fx.stores.outbox.enqueue({ ...old, payload: legacyPayload });
    const payload = async (id: string) => (await fx.database.db.selectFrom("mail_outbox").select("payload").where("id", "=", id).executeTakeFirstOrThrow()).payload;
    expect(envelopeKeyId(await payload(queued.id))).toBe("k0");
    expect(await payload(queued.id)).not.toContain("live");

    const rotated = createKeyring("k1", [K0, K1]);
    const reports = await rewrapSecrets(fx.database.db, box(rotated));
    expect(reports.find((r) => r.table === "mail_outbox")).toMatchObject({ rows: 3, rewrapped: 1, unreadable: 0 });
    expect(envelopeKeyId(await payload(queued.id))).toBe("k1");
    expect(await payload(sent.id)).toBe("");
    expect(await payload(old.id)).toBe(legacyPayload);
    expect((await countSecretsByKey(fx.database.db)).find((c) => c.table === "mail_outbox")?.byKey).toEqual({ k1: 1 });
    // With the new key alone, the worker's sealer opens the rotated mail, and still the one queued before the keyring.
    const sealer = createMailSealer(box(createKeyring("k1", [K1])), legacyKey);
    expect(sealer.open(queued.id, await payload(queued.id))).toEqual(message);
    expect(sealer.open(old.id, legacyPayload)).toEqual(message);
    // Bound to its row: a payload moved to another row does not open.
    expect(() => sealer.open(sent.id, legacyPayload)).toThrow();
    expect(() => sealer.open(old.id, sealer.seal(queued.id, message))).toThrow();
  });
});

/** An outbox payload as versions before the keyring sealed it: `v1.<iv‖tag‖ciphertext>` under a SECRET_KEY-derived key, the row id as AAD. */
function sealLegacy(key: Buffer, id: string, message: object): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(id, "utf8"));
  const body = Buffer.concat([cipher.update(JSON.stringify(message), "utf8"), cipher.final()]);
  return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}
