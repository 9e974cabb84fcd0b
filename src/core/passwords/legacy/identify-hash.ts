/**
 * Recognises the password hashes other apps store, so imported accounts keep
 * their passwords (docs/migrating-users.md). Parsing only: verification is
 * legacy-verify.ts. Every parameter is bounded here, at import time, so a
 * crafted row cannot make a sign-in cost minutes or gigabytes.
 */

/** The hash schemes Gatehouse verifies, as named in import summaries and audit details. */
export const HASH_SCHEMES = [
  "argon2", // Argon2i/d/id in PHC form from any library ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
  "bcrypt", // $2a$ / $2b$ / $2y$
  "werkzeug-pbkdf2", // pbkdf2:sha256:600000$salt$hex
  "werkzeug-scrypt", // scrypt:32768:8:1$salt$hex
  "django-pbkdf2", // pbkdf2_sha256$870000$salt$base64 (and pbkdf2_sha1)
  "django-argon2", // argon2$argon2id$v=19$…
  "django-bcrypt", // bcrypt$$2b$12$…
  "django-bcrypt-sha256", // bcrypt_sha256$$2b$12$… (bcrypt of the SHA-256 hex of the password)
] as const;

/** One of {@link HASH_SCHEMES}. */
export type HashScheme = (typeof HASH_SCHEMES)[number];

/** A digest PBKDF2 hashes may use. */
export type Pbkdf2Digest = "sha1" | "sha256" | "sha512";

/** What verification needs of a recognised hash. */
export type LegacyHash =
  | { kind: "argon2"; phc: string; variant: "argon2id" | "argon2i" | "argon2d"; memoryKiB: number; iterations: number; parallelism: number }
  | { kind: "bcrypt"; hash: string; cost: number; prehash: "none" | "sha256-hex" }
  | { kind: "pbkdf2"; digest: Pbkdf2Digest; iterations: number; salt: string; expected: Buffer }
  | { kind: "scrypt"; n: number; r: number; p: number; salt: string; expected: Buffer };

/** Why a stored hash cannot be used. */
export type HashProblem = "unknown_format" | "malformed" | "parameters_out_of_range";

/** The result of {@link identifyPasswordHash}. */
export type HashIdentity = { ok: true; scheme: HashScheme; hash: LegacyHash } | { ok: false; problem: HashProblem };

/**
 * Upper bounds on the cost of one verification. A hash above them is refused
 * at import (`parameters_out_of_range`) and verifies as false at sign-in.
 * The slowest allowed check (bcrypt cost 15) is a few seconds of one core,
 * in the same bounded hashing threads as Argon2id (bench/legacy-verify.ts).
 */
export const LEGACY_LIMITS = Object.freeze({
  pbkdf2Iterations: { sha1: 2_000_000, sha256: 2_000_000, sha512: 1_000_000 },
  /** scrypt: N a power of two up to 2^20, memory 128·N·r at most 128 MiB, N·r·p at most 2^22. */
  scryptMaxN: 2 ** 20,
  scryptMaxMemoryBytes: 128 * 1024 * 1024,
  scryptMaxWork: 2 ** 22,
  bcryptCost: { min: 4, max: 15 },
  argon2MaxMemoryKiB: 262_144,
  argon2MaxIterations: 20,
  argon2MaxParallelism: 16,
});

const SALT = /^[\x21-\x23\x25-\x7e]{1,128}$/; // printable ASCII without "$" (used as UTF-8 text, as werkzeug and Django do)
const HEX = /^(?:[0-9a-f]{2}){16,64}$/;
const B64 = /^[A-Za-z0-9+/]{20,88}={0,2}$/;
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const PHC = /^\$(argon2id|argon2i|argon2d)\$(?:v=(16|19)\$)?m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,128}\$[A-Za-z0-9+/]{16,172}$/;
const DIGEST_BYTES: Record<Pbkdf2Digest, number> = { sha1: 20, sha256: 32, sha512: 64 };

const fail = (problem: HashProblem): HashIdentity => ({ ok: false, problem });

function integer(text: string | undefined): number | null {
  return text !== undefined && /^[1-9]\d{0,9}$/.test(text) ? Number(text) : null;
}

function bcrypt(hash: string, scheme: HashScheme, prehash: "none" | "sha256-hex"): HashIdentity {
  const m = BCRYPT.exec(hash);
  if (!m) return fail("malformed");
  const cost = Number(m[1]);
  if (cost < LEGACY_LIMITS.bcryptCost.min || cost > LEGACY_LIMITS.bcryptCost.max) return fail("parameters_out_of_range");
  return { ok: true, scheme, hash: { kind: "bcrypt", hash, cost, prehash } };
}

function argon2(phc: string, scheme: HashScheme): HashIdentity {
  const m = PHC.exec(phc);
  if (!m) return fail("malformed");
  const [memoryKiB, iterations, parallelism] = [Number(m[3]), Number(m[4]), Number(m[5])];
  if (memoryKiB < 8 * parallelism || iterations < 1 || parallelism < 1) return fail("malformed");
  if (memoryKiB > LEGACY_LIMITS.argon2MaxMemoryKiB || iterations > LEGACY_LIMITS.argon2MaxIterations || parallelism > LEGACY_LIMITS.argon2MaxParallelism) {
    return fail("parameters_out_of_range");
  }
  return { ok: true, scheme, hash: { kind: "argon2", phc, variant: m[1] as "argon2id" | "argon2i" | "argon2d", memoryKiB, iterations, parallelism } };
}

function pbkdf2(scheme: HashScheme, digestName: string | undefined, iterationsText: string | undefined, salt: string | undefined, expected: Buffer | null): HashIdentity {
  if (digestName !== "sha1" && digestName !== "sha256" && digestName !== "sha512") return fail("unknown_format");
  const iterations = integer(iterationsText);
  if (iterations === null || salt === undefined || !SALT.test(salt) || expected === null || expected.length !== DIGEST_BYTES[digestName]) return fail("malformed");
  if (iterations > LEGACY_LIMITS.pbkdf2Iterations[digestName]) return fail("parameters_out_of_range");
  return { ok: true, scheme, hash: { kind: "pbkdf2", digest: digestName, iterations, salt, expected } };
}

const hex = (text: string | undefined): Buffer | null => (text !== undefined && HEX.test(text) ? Buffer.from(text, "hex") : null);
/** Canonical padded base64 only (as Django writes it): a digest missing its "=" or with stray bits is malformed. */
function base64(text: string | undefined): Buffer | null {
  if (text === undefined || !B64.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : null;
}

function werkzeugScrypt(method: string[], salt: string | undefined, expected: Buffer | null): HashIdentity {
  const [n, r, p] = [integer(method[1]), integer(method[2]), integer(method[3])];
  if (method.length !== 4 || n === null || r === null || p === null || n < 2 || (n & (n - 1)) !== 0) return fail("malformed");
  if (salt === undefined || !SALT.test(salt) || expected === null) return fail("malformed");
  if (n > LEGACY_LIMITS.scryptMaxN || 128 * n * r > LEGACY_LIMITS.scryptMaxMemoryBytes || n * r * p > LEGACY_LIMITS.scryptMaxWork) return fail("parameters_out_of_range");
  return { ok: true, scheme: "werkzeug-scrypt", hash: { kind: "scrypt", n, r, p, salt, expected } };
}

/**
 * Names the scheme of a stored password hash and parses its parameters.
 * Never throws; an unrecognised or malformed string is reported, never
 * guessed at. Input longer than 1,024 characters is `malformed`.
 */
export function identifyPasswordHash(stored: string): HashIdentity {
  if (typeof stored !== "string" || stored.length === 0) return fail("malformed");
  if (stored.length > 1024) return fail("malformed");
  if (stored.startsWith("$argon2")) return argon2(stored, "argon2");
  if (stored.startsWith("$2")) return bcrypt(stored, "bcrypt", "none");
  if (stored.startsWith("argon2$")) return argon2(stored.slice("argon2".length), "django-argon2");
  if (stored.startsWith("bcrypt_sha256$")) return bcrypt(stored.slice("bcrypt_sha256$".length), "django-bcrypt-sha256", "sha256-hex");
  if (stored.startsWith("bcrypt$")) return bcrypt(stored.slice("bcrypt$".length), "django-bcrypt", "none");
  const parts = stored.split("$");
  const head = parts[0] ?? "";
  if (head.startsWith("pbkdf2_")) {
    // Django: pbkdf2_<digest>$<iterations>$<salt>$<base64 hash>
    if (parts.length !== 4) return fail("malformed");
    return pbkdf2("django-pbkdf2", head.slice("pbkdf2_".length), parts[1], parts[2], base64(parts[3]));
  }
  if (head.startsWith("pbkdf2:") || head.startsWith("scrypt:")) {
    // werkzeug: <method>$<salt>$<hex hash>, method pbkdf2:<digest>:<iterations> or scrypt:<n>:<r>:<p>
    if (parts.length !== 3) return fail("malformed");
    const method = head.split(":");
    if (method[0] === "scrypt") return werkzeugScrypt(method, parts[1], hex(parts[2]));
    if (method.length !== 3) return fail("malformed"); // werkzeug's implicit default iterations changed between versions: refuse, never guess
    return pbkdf2("werkzeug-pbkdf2", method[1], method[2], parts[1], hex(parts[2]));
  }
  return fail("unknown_format");
}
