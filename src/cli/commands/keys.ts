import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "../../config/config.js";
import { derivedKeyringFile, keyringOf, keyringSource, readKeyringFile, writeKeyringFile, type KeyringFile } from "../../config/keyring-file.js";
import { ConfigError, loadConfig } from "../../config/load-config.js";
import { describeFsError } from "../../config/env-file.js";
import { createAuditLog } from "../../core/audit/audit-log.js";
import { systemClock } from "../../core/clock.js";
import { cryptoRandom } from "../../core/random.js";
import { DATA_KEY_BYTES, nextKeyId } from "../../core/secrets/keyring.js";
import { createSecretBox } from "../../core/secrets/secret-box.js";
import { countSecretsByKey, rewrapSecrets, type RewrapReport } from "../../storage/sql/rewrap-secrets.js";
import { createSqlAuditStore } from "../../storage/sql/sql-audit-store.js";
import { createSqlSigningKeyStore } from "../../storage/sql/sql-signing-key-store.js";
import { createIdentityTokens, type IdentityTokens } from "../../core/identity/identity-tokens.js";
import { cliEnvironment } from "../cli-environment.js";
import { CliError, EXIT, printable, type CliIo, type Command } from "../cli-io.js";
import { describeDatabase, loadCliConfig, openConfiguredDatabase } from "../configured-database.js";

export const KEYS_USAGE = `Usage: gatehouse keys <command>

  rotate    add a new data key to KEYRING_FILE, make it the active one, and
            re-encrypt every stored secret under it (creates the file, mode
            0600, from the key derived from SECRET_KEY when it does not exist)
  status    the keyring (active key, every key id) and how many stored
            secrets are under each key
  rewrap    re-encrypt stored secrets that are not under the active key

  rotate --signing
            a new identity-JWT signing key (IDENTITY_JWT); the old one is
            retired: still published at /.well-known/jwks.json for its grace
            period (max(1 h, 2 x IDENTITY_JWT_TTL)), then deleted
  retire-signing <kid>
            delete a (compromised) signing key at once; tokens it signed stop
            verifying once apps refresh the JWKS. Retiring the active key
            makes a new one first. "status" lists the kids.

Stored secrets (second-factor seeds) are AES-256-GCM envelopes naming their
key id. Old keys stay in the file so nothing becomes unreadable; once
"status" shows no secret under a key, that key may be removed from the file.
Running servers re-read the file when they meet a key id they do not know,
and re-read the signing keys within a minute.`;

const CLI_ORIGIN = { ip: "local", userAgent: "gatehouse-cli" } as const;

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { help: { type: "boolean", short: "h", default: false }, signing: { type: "boolean", default: false } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n\n${KEYS_USAGE}`, EXIT.usage);
  }
}

function configFrom(env: NodeJS.ProcessEnv): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`${err.message}\n(run "gatehouse doctor" for advice)`);
    throw err;
  }
}

/** Holds `<keyring>.lock` while `fn` runs, so two rotations never write two different keys under one id. */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CliError(`another "gatehouse keys" command holds ${lock}; if none is running (it crashed), remove that file and try again`);
    }
    throw new CliError(`cannot create ${lock}: ${describeFsError(err)}`);
  }
  closeSync(fd);
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function describeRewrap(reports: RewrapReport[]): string {
  return reports.map((r) => `  ${r.table}.${r.column}: ${r.rows} row(s), ${r.rewrapped} re-encrypted, ${r.unreadable} unreadable\n`).join("");
}

function unreadableProblems(reports: RewrapReport[]): string | null {
  const bad = reports.filter((r) => r.unreadable > 0);
  if (bad.length === 0) return null;
  const lines = bad.flatMap((r) => [`${r.unreadable} secret(s) in ${r.table}.${r.column} cannot be decrypted with this keyring and were left as they are:`, ...r.problems.map((p) => `  ${printable(p)}`)]);
  return `${lines.join("\n")}\nRestore the keyring file (or SECRET_KEY) they were sealed under; "gatehouse keys status" shows their key ids.`;
}

/** Re-encrypts under `config`'s active key and records nothing; the caller reports. */
async function rewrap(config: Config): Promise<{ reports: RewrapReport[]; close: () => Promise<void>; database: Awaited<ReturnType<typeof openConfiguredDatabase>> }> {
  const database = await openConfiguredDatabase(config);
  try {
    const box = createSecretBox(keyringSource(config.keyring), cryptoRandom);
    return { reports: await rewrapSecrets(database.db, box), database, close: () => database.close() };
  } catch (err) {
    await database.close();
    throw err;
  }
}

async function rotate(io: CliIo): Promise<number> {
  const loaded = cliEnvironment(io.env);
  const named = loaded.env.KEYRING_FILE?.trim();
  if (!named) {
    throw new CliError(
      "KEYRING_FILE is not set. Set it (in .env or the environment of the server and of this command) to where the keyring should live, " +
        "for example KEYRING_FILE=/etc/gatehouse/keyring.json; rotate creates it, starting with k0, the key derived from SECRET_KEY, so every stored secret stays readable.",
      EXIT.usage,
    );
  }
  const path = resolve(named);
  return withLock(path, async () => {
    const created = !existsSync(path);
    // A keyring file that does not exist yet: the configuration is read without it, and the file starts from the derived key.
    const before = configFrom(created ? { ...loaded.env, KEYRING_FILE: "" } : loaded.env);
    const current: KeyringFile = created ? derivedKeyringFile(before.secretKey, new Date(systemClock.now())) : readKeyringFile(path);
    const id = nextKeyId(keyringOf({ file: path, activeId: current.active, keys: current.keys }));
    const next: KeyringFile = {
      active: id,
      keys: [...current.keys, { id, key: cryptoRandom.bytes(DATA_KEY_BYTES).toString("base64"), created: new Date(systemClock.now()).toISOString() }],
    };
    try {
      writeKeyringFile(path, next);
    } catch (err) {
      throw new CliError(`cannot write ${path}: ${describeFsError(err)}`);
    }
    io.err(`${created ? "Created" : "Updated"} ${path} (mode 0600): active key ${id} (was ${current.active}); keys ${next.keys.map((k) => k.id).join(", ")}\n`);
    // From here on the configuration is the one the server will read: the file just written.
    const config = configFrom(loaded.env);
    const { reports, database, close } = await rewrap(config);
    try {
      const audit = createAuditLog({ store: createSqlAuditStore(database.db), clock: systemClock, random: cryptoRandom });
      const rewrapped = reports.reduce((n, r) => n + r.rewrapped, 0);
      const unreadable = reports.reduce((n, r) => n + r.unreadable, 0);
      await audit.record({ type: "key_rotated", details: { from: current.active, to: id, created, rewrapped, unreadable, via: "cli" }, ...CLI_ORIGIN });
      io.err(`Re-encrypted stored secrets in ${describeDatabase(config)}:\n${describeRewrap(reports)}`);
      const problems = unreadableProblems(reports);
      if (problems) {
        io.err(`${problems}\n`);
        return EXIT.failure;
      }
      io.out(`${id}\n`);
      return EXIT.ok;
    } finally {
      await close();
    }
  });
}

async function status(io: CliIo): Promise<number> {
  const config = loadCliConfig(io.env);
  const ring = keyringOf(config.keyring);
  io.out(`keyring: ${config.keyring.file === null ? "derived from SECRET_KEY (KEYRING_FILE is not set)" : printable(config.keyring.file)}\n`);
  io.out(`active key: ${ring.activeId}\nkeys: ${[...ring.keys.keys()].join(", ")}\n`);
  const database = await openConfiguredDatabase(config);
  let unknown = 0;
  try {
    for (const c of await countSecretsByKey(database.db)) {
      const parts = Object.entries(c.byKey)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, n]) => {
          if (!ring.keys.has(id)) unknown += n;
          return `${n} under ${printable(id)}${ring.keys.has(id) ? "" : " (NOT IN THE KEYRING)"}`;
        });
      io.out(`${c.table}.${c.column}: ${parts.length === 0 ? "none" : parts.join(", ")}\n`);
    }
    const box = createSecretBox(keyringSource(config.keyring), cryptoRandom);
    const signing = createIdentityTokens({ store: createSqlSigningKeyStore(database.db), box, clock: systemClock, random: cryptoRandom, issuer: config.publicUrl, ttlMs: config.identityJwt.ttlMs, alg: config.identityJwt.alg });
    const keys = await signing.list();
    io.out(`signing keys (IDENTITY_JWT ${config.identityJwt.enabled ? "on" : "off"}):${keys.length === 0 ? " none" : ""}\n`);
    for (const k of keys) {
      const state = k.state === "active" ? "active" : k.published ? `retired ${new Date(k.retiredAt ?? 0).toISOString()}, published until ${new Date((k.retiredAt ?? 0) + signing.graceMs).toISOString()}` : `retired ${new Date(k.retiredAt ?? 0).toISOString()}, no longer published`;
      io.out(`  ${printable(k.kid)}  ${k.alg}  ${state}  created ${new Date(k.createdAt).toISOString()}\n`);
    }
  } finally {
    await database.close();
  }
  if (unknown > 0) {
    io.err(`${unknown} stored secret(s) are under a key this keyring does not hold: they cannot be read. Restore the keyring file that holds it.\n`);
    return EXIT.failure;
  }
  return EXIT.ok;
}

/** The identity JWT's signing keys of the configured database, with the configured keyring and settings. */
async function withSigningKeys<T>(config: Config, fn: (tokens: IdentityTokens, database: Awaited<ReturnType<typeof openConfiguredDatabase>>) => Promise<T>): Promise<T> {
  const database = await openConfiguredDatabase(config);
  try {
    const box = createSecretBox(keyringSource(config.keyring), cryptoRandom);
    const tokens = createIdentityTokens({
      store: createSqlSigningKeyStore(database.db),
      box,
      clock: systemClock,
      random: cryptoRandom,
      issuer: config.publicUrl,
      ttlMs: config.identityJwt.ttlMs,
      alg: config.identityJwt.alg,
    });
    return await fn(tokens, database);
  } finally {
    await database.close();
  }
}

async function rotateSigning(io: CliIo): Promise<number> {
  const config = loadCliConfig(io.env);
  return withSigningKeys(config, async (tokens, database) => {
    const { from, to } = await tokens.rotate();
    const audit = createAuditLog({ store: createSqlAuditStore(database.db), clock: systemClock, random: cryptoRandom });
    await audit.record({ type: "key_rotated", details: { kind: "signing", from: from.length === 0 ? null : from.join(" "), to, via: "cli" }, ...CLI_ORIGIN });
    const grace = Math.round(tokens.graceMs / 60_000);
    io.err(`New ${config.identityJwt.alg} signing key ${to} is active in ${describeDatabase(config)}; ${from.length === 0 ? "there was no active key" : `retired ${from.join(", ")} (published for ${grace} more minutes)`}. Running servers sign with it within a minute.\n`);
    if (!config.identityJwt.enabled) io.err("Note: IDENTITY_JWT is off in this configuration; the key is used once it is on.\n");
    io.out(`${to}\n`);
    return EXIT.ok;
  });
}

async function retireSigning(io: CliIo, kid: string): Promise<number> {
  const config = loadCliConfig(io.env);
  return withSigningKeys(config, async (tokens, database) => {
    const result = await tokens.remove(kid);
    if (result === null) throw new CliError(`no signing key "${printable(kid.slice(0, 64))}" ("gatehouse keys status" lists them)`);
    const audit = createAuditLog({ store: createSqlAuditStore(database.db), clock: systemClock, random: cryptoRandom });
    await audit.record({ type: "key_rotated", details: { kind: "signing", from: kid, to: result.active, removed: true, via: "cli" }, ...CLI_ORIGIN });
    io.err(`Deleted signing key ${printable(kid)}; ${result.active} signs. Servers stop publishing it within a minute; apps stop accepting its tokens when they refresh the JWKS.\n`);
    io.out(`${result.active}\n`);
    return EXIT.ok;
  });
}

/** `gatehouse keys rotate|status|rewrap`: the data keys of secrets at rest; `rotate --signing|retire-signing`: the identity JWT's signing keys. */
export const keysCommand: Command = async (args: string[], io: CliIo) => {
  const { values, positionals } = parse(args);
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    io.out(`${KEYS_USAGE}\n`);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (sub === "retire-signing") {
    if (rest.length !== 1) throw new CliError(`retire-signing needs one key id\n\n${KEYS_USAGE}`, EXIT.usage);
    return retireSigning(io, rest[0]!);
  }
  if (rest.length > 0) throw new CliError(`unexpected argument "${printable(rest[0]!.slice(0, 40))}"\n\n${KEYS_USAGE}`, EXIT.usage);
  if (values.signing && sub !== "rotate") throw new CliError(`--signing goes with rotate only\n\n${KEYS_USAGE}`, EXIT.usage);
  switch (sub) {
    case "rotate":
      return values.signing ? rotateSigning(io) : rotate(io);
    case "status":
      return status(io);
    case "rewrap": {
      const config = loadCliConfig(io.env);
      const { reports, close } = await rewrap(config);
      await close();
      io.err(`Re-encrypted stored secrets under ${config.keyring.activeId} in ${describeDatabase(config)}:\n${describeRewrap(reports)}`);
      const problems = unreadableProblems(reports);
      if (problems) io.err(`${problems}\n`);
      return problems ? EXIT.failure : EXIT.ok;
    }
    default:
      throw new CliError(`unknown keys command "${printable(sub.slice(0, 40))}"\n\n${KEYS_USAGE}`, EXIT.usage);
  }
};
