import { randomBytes } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { errorCodes, GatehouseError } from "../../src/core/errors.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { toPublicError } from "../../src/http/plugins/errors.js";
import { captureLogger } from "../helpers/log-capture.js";

describe("secret_unreadable over HTTP: the client gets the code, the log gets the reason, nobody gets the secret", () => {
  it("maps to 500 secret_unreadable and logs table, row and key id, never the envelope, the plaintext or a key", () => {
    const key = randomBytes(32);
    const secret = `seed-${randomBytes(12).toString("hex")}`;
    const ctx = { table: "user_secrets", column: "secret_envelope", id: "u-123/totp" };
    const envelope = createSecretBox({ current: () => createKeyring("k1", [{ id: "k1", key }]) }, cryptoRandom).seal(secret, ctx);
    let thrown: unknown;
    try {
      createSecretBox({ current: () => createKeyring("k0", [{ id: "k0", key: randomBytes(32) }]) }, cryptoRandom).open(envelope, ctx);
    } catch (err) {
      thrown = err;
    }
    const logs = captureLogger();
    const request = { log: logs.logger, server: { databaseOutage: null } } as unknown as FastifyRequest;
    const pub = toPublicError(thrown, request);
    expect(pub).toBeInstanceOf(GatehouseError);
    expect({ status: pub.status, code: pub.code, message: pub.message }).toEqual({ status: 500, code: "secret_unreadable", message: errorCodes.secret_unreadable.message });
    expect(logs.lines).toHaveLength(1);
    const line = JSON.parse(logs.lines[0]!) as { level: number; code: string; reason: string };
    expect(line).toMatchObject({ level: 50, code: "secret_unreadable" });
    expect(line.reason).toContain('user_secrets.secret_envelope of row "u-123/totp"');
    expect(line.reason).toContain('sealed under key "k1", which is not in the keyring (known: k0)');
    for (const leaked of [secret, envelope.split(".")[3]!, key.toString("base64"), key.toString("hex")]) expect(logs.text()).not.toContain(leaked);
    expect(pub.message).not.toContain("u-123");
  });
});
