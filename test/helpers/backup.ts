import { createHash, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { expect } from "vitest";
import { isGatehouseError, type ErrorCode } from "../../src/core/errors.js";
import type { Database } from "../../src/storage/sql/database.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { contextOf, USER_VAULT_SECRETS_COLUMN, VAULT_SECRETS_COLUMN } from "../../src/core/secrets/encrypted-columns.js";
import { userSecretContext } from "../../src/core/secrets/user-secrets.js";

/** The data key the seeded secrets are sealed under (`k0`). */
export const SEED_DATA_KEY = Buffer.alloc(32, 0x5e);

/** A well-formed Argon2id PHC string (never verified in these suites). */
export const ARGON = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g";
export const T0 = 1_767_225_600_000;

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** What {@link seed} wrote, for assertions. */
export interface Seeded {
  superadminId: string;
  adminId: string;
  userId: string;
  sessionTokenHashes: string[];
  oneTimeTokenHash: string;
  /** The plaintexts of the seeded per-user secrets (stored only as envelopes under {@link SEED_DATA_KEY}). */
  secretPlaintexts: string[];
  /** The plaintexts of the seeded vault secrets: the operator's `openai` and the admin's own `anthropic` key (envelopes under {@link SEED_DATA_KEY}). */
  vaultPlaintexts: string[];
}

/**
 * Seeds every table directly through Kysely: a superadmin, an admin, a
 * blocked user without email or password, `extraUsers` more users, settings,
 * API tokens, two per-user secrets (envelopes under {@link SEED_DATA_KEY}), two passkeys,
 * two linked provider identities (one subject under two issuers), one provider round trip in flight,
 * `auditEvents` audit events (enough to span export pages), two live sessions
 * and a one-time token.
 */
export async function seed(db: Kysely<Database>, opts: { extraUsers?: number; auditEvents?: number } = {}): Promise<Seeded> {
  const [superadminId, adminId, userId] = [randomUUID(), randomUUID(), randomUUID()];
  const user = (id: string, name: string, role: string, extra: Partial<Database["users"]> = {}) => ({
    id, username: name, username_normalized: name.toLowerCase(), email: `${name}@Example.test`, email_normalized: `${name.toLowerCase()}@example.test`,
    email_verified: 1, password_hash: ARGON, role, blocked: 0, created_at: T0, updated_at: T0 + 5, last_login_at: T0 + 60_000, ...extra,
  });
  const users = [
    user(superadminId, "Root-Admin", "superadmin"),
    user(adminId, "alice", "admin", { email_verified: 0, last_login_at: null }),
    user(userId, "bob.smith", "user", { email: null, email_normalized: null, password_hash: null, blocked: 1 }),
  ];
  for (let i = 0; i < (opts.extraUsers ?? 0); i++) users.push(user(randomUUID(), `user-${String(i).padStart(5, "0")}`, "user", { created_at: T0 + i }));
  for (let i = 0; i < users.length; i += 200) await db.insertInto("users").values(users.slice(i, i + 200)).execute();

  await db.insertInto("settings").values([
    { key: "registration", value: JSON.stringify("invite"), updated_at: T0, updated_by: superadminId },
    { key: "sessionIdleMinutes", value: "45", updated_at: T0 + 1, updated_by: null },
  ]).execute();
  await db.insertInto("api_tokens").values([
    { id: randomUUID(), user_id: adminId, name: "Déploiement ✓ \"ci\"", token_hash: sha("t1"), prefix: "gth_abcd", scopes: JSON.stringify(["read:account", "admin:read"]), created_at: T0, expires_at: T0 + 90 * 86_400_000, last_used_at: null },
    { id: randomUUID(), user_id: adminId, name: "backup script", token_hash: sha("t2"), prefix: "gth_efgh", scopes: JSON.stringify(["admin:write"]), created_at: T0 + 1, expires_at: T0 + 86_400_000, last_used_at: T0 + 2 },
    { id: randomUUID(), user_id: userId, name: "read only", token_hash: sha("t3"), prefix: "gth_ijkl", scopes: JSON.stringify([]), created_at: T0 + 2, expires_at: T0 + 86_400_000, last_used_at: null },
  ]).execute();
  const box = createSecretBox({ current: () => createKeyring("k0", [{ id: "k0", key: SEED_DATA_KEY }]) }, cryptoRandom);
  const secretPlaintexts = [`JBSWY3DPEHPK3PXP${randomUUID().slice(0, 8)}`, `recovery-${randomUUID()}`];
  await db.insertInto("user_secrets").values([
    { id: randomUUID(), user_id: adminId, kind: "totp", secret_envelope: box.seal(secretPlaintexts[0]!, userSecretContext(adminId, "totp")), created_at: T0, updated_at: T0 + 1 },
    { id: randomUUID(), user_id: superadminId, kind: "recovery", secret_envelope: box.seal(secretPlaintexts[1]!, userSecretContext(superadminId, "recovery")), created_at: T0 + 2, updated_at: T0 + 2 },
  ]).execute();
  const vaultPlaintexts = [`sk-seeded-operator-${randomUUID()}`, `sk-ant-seeded-own-${randomUUID()}`];
  await db.insertInto("vault_secrets").values({ name: "openai", secret_envelope: box.seal(vaultPlaintexts[0]!, contextOf(VAULT_SECRETS_COLUMN, { name: "openai" })), prefix: "sk-s", created_at: T0, updated_at: T0 + 3, updated_by: superadminId }).execute();
  await db.insertInto("user_vault_secrets").values({ id: randomUUID(), user_id: adminId, name: "anthropic", secret_envelope: box.seal(vaultPlaintexts[1]!, contextOf(USER_VAULT_SECRETS_COLUMN, { user_id: adminId, name: "anthropic" })), prefix: "sk-a", created_at: T0, updated_at: T0 }).execute();
  // The admin's authenticator app: confirmed, with a last used step (its secret is the "totp" envelope above).
  await db.insertInto("totp_factors").values({ user_id: adminId, confirmed_at: T0 + 1, last_used_step: Math.floor(T0 / 30_000), created_at: T0, updated_at: T0 + 1 }).execute();
  await db.insertInto("recovery_codes").values([
    { id: randomUUID(), user_id: adminId, lookup: "ab12", code_hash: ARGON, created_at: T0, used_at: null },
    { id: randomUUID(), user_id: adminId, lookup: "cd34", code_hash: ARGON, created_at: T0, used_at: T0 + 10 },
  ]).execute();
  await db.insertInto("webauthn_credentials").values([
    { id: randomUUID(), user_id: adminId, credential_id: "AQIDBAUGBwgJCgsMDQ4PEA", public_key: "pQECAyYgASFYIA-public-key-bytes", counter: 41, transports: "internal,hybrid", device_type: "multiDevice", backed_up: 1, name: "Téléphone \"perso\"", created_at: T0, last_used_at: T0 + 9 },
    { id: randomUUID(), user_id: superadminId, credential_id: "EBESExQVFhcYGRobHB0eHw", public_key: "pQECAyYgASFYIA-other-key", counter: 0, transports: "", device_type: "singleDevice", backed_up: 0, name: "YubiKey", created_at: T0 + 1, last_used_at: null },
  ]).execute();
  await db.insertInto("external_identities").values([
    { id: randomUUID(), user_id: adminId, provider: "google", issuer: "https://accounts.google.com", subject: "1045", email: "Alice@Example.test", created_at: T0, last_used_at: T0 + 7 },
    { id: randomUUID(), user_id: superadminId, provider: "corp", issuer: "https://sso.corp.example/realms/main", subject: "1045", email: null, created_at: T0 + 1, last_used_at: null },
  ]).execute();
  // A provider round trip in flight: never exported, emptied by a restore.
  await db.insertInto("oauth_transactions").values({
    id: randomUUID(), state_hash: sha(`state-${randomUUID()}`), binding_hash: sha("binding"), provider: "google", intent: "link", nonce: "n0nce-value",
    code_verifier: "verifier-".padEnd(64, "v"), return_to: "/account", user_id: adminId, session_hash: sha("s1"), invitation_hash: null, remember: 0, created_at: T0, expires_at: T0 + 600_000,
  }).execute();
  const events = Array.from({ length: opts.auditEvents ?? 5 }, (_, i) => ({
    id: randomUUID(), type: i % 2 === 0 ? "login_success" : "login_failure", at: T0 + i * 1000, user_id: i % 3 === 0 ? null : adminId,
    actor_id: i % 5 === 0 ? superadminId : null, ip: i % 2 === 0 ? "203.0.113.7" : "2001:db8::1", user_agent: `Mozilla/5.0 "quoted" \\ ünïcødé ${i}`,
    details: JSON.stringify({ n: i, ok: i % 2 === 0, note: "line\\u000a" }), request_id: i % 4 === 0 ? null : `req-${i}`,
  }));
  for (let i = 0; i < events.length; i += 200) await db.insertInto("audit_events").values(events.slice(i, i + 200)).execute();

  const sessionTokenHashes = [sha("s1"), sha("s2")];
  await db.insertInto("sessions").values(sessionTokenHashes.map((token_hash, i) => ({
    id: randomUUID(), token_hash, user_id: i === 0 ? adminId : superadminId, created_at: T0, last_seen_at: T0, expires_at: T0 + 3_600_000,
    remember: 0, ip: "203.0.113.9", user_agent: "live", reauth_at: null, aal: "aal1", amr: "pwd",
  }))).execute();
  const oneTimeTokenHash = sha("setup");
  await db.insertInto("one_time_tokens").values({ token_hash: oneTimeTokenHash, purpose: "setup", user_id: null, created_at: T0, expires_at: T0 + 3_600_000 }).execute();
  return { superadminId, adminId, userId, sessionTokenHashes, oneTimeTokenHash, secretPlaintexts, vaultPlaintexts };
}

const KEYS = { users: "id", sessions: "id", settings: "key", api_tokens: "id", user_secrets: "id", totp_factors: "user_id", recovery_codes: "id", webauthn_credentials: "id", external_identities: "id", oauth_transactions: "id", one_time_tokens: "token_hash", audit_events: "id", vault_secrets: "name", user_vault_secrets: "id" } as const;

/** Every row of every table, sorted by primary key (to prove a database unchanged or equal). */
export async function dumpAll(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, key] of Object.entries(KEYS)) {
    const rows = (await db.selectFrom(table as keyof Database).selectAll().execute()) as Record<string, unknown>[];
    out[table] = rows.sort((a, b) => String(a[key]).localeCompare(String(b[key]), "en"));
  }
  return out;
}

/** Asserts that `run` rejects with a GatehouseError of `code`; returns it. */
export async function expectCode(run: Promise<unknown>, code: ErrorCode) {
  const err = await run.then(() => null, (e: unknown) => e);
  expect(err, `expected ${code}`).not.toBeNull();
  if (!isGatehouseError(err)) throw err;
  expect(err.code).toBe(code);
  return err;
}

/** A copy of `bytes` with one bit flipped at `index`. */
export function flipByte(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}
