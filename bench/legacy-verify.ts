// npx tsx bench/legacy-verify.ts [--rounds 7] [--out bench/results/legacy-verify.json]
// The cost of checking one password against a legacy hash (imported accounts,
// docs/legacy-hashes.md), per scheme, as a ratio to Gatehouse's own Argon2id
// verify (m=19456, t=2, p=1) measured in the same run. Schemes are measured
// with the fixture parameters (test/fixtures/legacy-hashes/hashes.jsonl) and
// with each library's current default. Rounds interleave every scheme with a
// native verify, one operation at a time on one hashing thread, so host load
// shifts both sides alike. Two figures per scheme:
//   raw:    the legacy check alone (runLegacyJob, in this process);
//   served: what a sign-in pays, through the hasher the server uses (hashing
//           thread, with the Argon2id cost floor of docs/security-model.md).
// Wrong passwords throughout (the attacker's case; a right one costs the same check).
import { pbkdf2Sync, randomBytes, scryptSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hash as argon2Hash, type Algorithm } from "@node-rs/argon2";
import bcryptjs from "bcryptjs";
import { createArgon2Hasher, defaultArgon2Params } from "../src/core/passwords/argon2-hasher.js";
import { identifyPasswordHash } from "../src/core/passwords/legacy/identify-hash.js";
import { planLegacyVerify, runLegacyJob, scryptMaxmem } from "../src/core/passwords/legacy/legacy-verify.js";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    out: { type: "string", default: join(import.meta.dirname, "results", "legacy-verify.json") },
  },
});
const ROUNDS = Number(values.rounds);
const WRONG = "not the password at all";
const salt = () => randomBytes(12).toString("base64url").slice(0, 16);

interface Case {
  name: string;
  hash: string;
  source: "fixture" | "library default";
}

const fixtures = readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "legacy-hashes", "hashes.jsonl"), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as { scheme: string; hash: string; params: Record<string, unknown>; supported?: false });

const cases: Case[] = fixtures
  .filter((f) => f.supported !== false && f.params.default !== true)
  .map((f) => ({ name: `${f.scheme} ${JSON.stringify(f.params)}`, hash: f.hash, source: "fixture" as const }));

// Each library's current default, made here with the same format (the fixtures prove the formats match).
const wSalt = salt();
const dSalt = salt();
const sSalt = salt();
cases.push(
  { name: "werkzeug 2.2 pbkdf2:sha256:260000", source: "library default", hash: `pbkdf2:sha256:260000$${wSalt}$${pbkdf2Sync("x", wSalt, 260000, 32, "sha256").toString("hex")}` },
  { name: "werkzeug 3 scrypt:32768:8:1", source: "library default", hash: `scrypt:32768:8:1$${sSalt}$${scryptSync("x", sSalt, 64, { N: 32768, r: 8, p: 1, maxmem: scryptMaxmem(32768, 8, 1) }).toString("hex")}` },
  { name: "Django 3.2 pbkdf2_sha256$260000", source: "library default", hash: `pbkdf2_sha256$260000$${dSalt}$${pbkdf2Sync("x", dSalt, 260000, 32, "sha256").toString("base64")}` },
  { name: "bcrypt cost 12 ($2b$)", source: "library default", hash: bcryptjs.hashSync("x", 12) },
  { name: "Django 3.2 bcrypt_sha256 cost 12", source: "library default", hash: `bcrypt_sha256$${bcryptjs.hashSync("x", 12)}` },
  { name: "argon2-cffi 21.1 defaults (argon2id m=102400,t=2,p=8)", source: "library default", hash: await argon2Hash("x", { algorithm: 2 as Algorithm, memoryCost: 102400, timeCost: 2, parallelism: 8, outputLen: 16 }) },
);
for (const c of cases) if (!identifyPasswordHash(c.hash).ok) throw new Error(`not recognised: ${c.name}`);

const served = createArgon2Hasher(defaultArgon2Params, { threads: 1 });
const native = await served.hash("x");

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

// Warm up: threads started, dummy hash made, libraries loaded.
await served.verify(native, WRONG);
for (const c of cases) await served.verify(c.hash, WRONG);

const nativeMs: number[] = [];
const raw = new Map<string, number[]>();
const srv = new Map<string, number[]>();
const load = [loadavg()[0]!];
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases) {
    const identity = identifyPasswordHash(c.hash);
    if (!identity.ok) continue;
    nativeMs.push(await time(() => served.verify(native, WRONG)));
    (raw.get(c.name) ?? raw.set(c.name, []).get(c.name)!).push(await time(() => runLegacyJob(planLegacyVerify(identity.hash, WRONG))));
    (srv.get(c.name) ?? srv.set(c.name, []).get(c.name)!).push(await time(() => served.verify(c.hash, WRONG)));
  }
  load.push(loadavg()[0]!);
}
await served.close();

const nativeMedian = median(nativeMs);
const rows = cases.map((c) => {
  const r = median(raw.get(c.name)!);
  const s = median(srv.get(c.name)!);
  return { scheme: c.name, source: c.source, rawMs: +r.toFixed(2), rawRatio: +(r / nativeMedian).toFixed(2), servedMs: +s.toFixed(2), servedRatio: +(s / nativeMedian).toFixed(2) };
});
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: availableParallelism(),
  loadAverage1m: { min: Math.min(...load), max: Math.max(...load) },
  rounds: ROUNDS,
  nativeArgon2idVerifyMs: +nativeMedian.toFixed(2),
  nativeParams: defaultArgon2Params,
  rows,
};
writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`native Argon2id verify: ${nativeMedian.toFixed(1)} ms (median of ${nativeMs.length}); load ${result.loadAverage1m.min}–${result.loadAverage1m.max}`);
console.log("| scheme | source | raw ms | raw × | served ms | served × |\n|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.scheme} | ${r.source} | ${r.rawMs} | ${r.rawRatio} | ${r.servedMs} | ${r.servedRatio} |`);
