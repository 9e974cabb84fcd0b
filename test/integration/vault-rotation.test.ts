import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyringOf, keyringSource, writeKeyringFile } from "../../src/config/keyring-file.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";
import { createVault, VAULT_CACHE_MS } from "../../src/core/vault/vault.js";
import { rewrapSecrets } from "../../src/storage/sql/rewrap-secrets.js";
import { backendNames } from "../helpers/backends.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { listen } from "../helpers/reverse-proxy.js";
import WebSocket from "ws";

const K0 = { id: "k0", key: randomBytes(32).toString("base64"), created: null };
const K1 = { id: "k1", key: randomBytes(32).toString("base64"), created: null };
const OPERATOR_KEY = "sk-rotation-operator-0123456789abcdef";
const OWN_KEY = "sk-rotation-own-fedcba9876543210";

describe.each(backendNames())("key rotation keeps every vault secret readable, and the injected header correct (%s)", (backend) => {
  let h: Harness;
  let upstream: EchoUpstream;
  let dir: string;
  let keyring: string;
  let appCookie: string;
  let userId: string;

  const injected = async () => {
    upstream.seen.length = 0;
    await h.request({ method: "GET", url: "/api/chat", cookie: appCookie, headers: { host: "app.test" } });
    return upstream.seen[0]!.headers;
  };
  const keyIds = async () => [
    ...(await h.gh.database.db.selectFrom("vault_secrets").select("secret_envelope").execute()),
    ...(await h.gh.database.db.selectFrom("user_vault_secrets").select("secret_envelope").execute()),
  ].map((r) => envelopeKeyId(r.secret_envelope));

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-rotation-"));
    mkdirSync(join(dir, "etc"), { mode: 0o700 });
    keyring = join(dir, "etc", "keyring.json");
    writeKeyringFile(keyring, { active: "k0", keys: [K0] });
    writeFileSync(
      join(dir, "gatehouse.yml"),
      `access_control:
  default_policy: one_factor
upstreams:
  - domain: app.test
    url: ${upstream.url}
    inject_headers:
      Authorization: "Bearer \${secret:openai}"
      X-Own-Key: "\${user_secret:mine}"
`,
    );
    h = await startHarness(backend, { GATEHOUSE_CONFIG: join(dir, "gatehouse.yml"), KEYRING_FILE: keyring });
    const sup = await h.account("superadmin");
    const user = await h.account("user");
    userId = user.id;
    expect((await h.request({ method: "PUT", url: "/api/admin/secrets/openai", cookie: sup.cookie, json: { value: OPERATOR_KEY } })).statusCode).toBe(201);
    expect((await h.request({ method: "PUT", url: "/api/account/secrets/mine", cookie: user.cookie, json: { value: OWN_KEY } })).statusCode).toBe(201);
    const login = await h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD }, headers: { host: "app.test", origin: "http://app.test" } });
    appCookie = sessionCookieFrom(login) as string;
  });
  afterAll(async () => {
    await h?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a map of inject_headers applies to every path of the upstream", async () => {
    const seen = await injected();
    expect(seen.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect(seen["x-own-key"]).toBe(OWN_KEY);
    expect(await keyIds()).toEqual(["k0", "k0"]);
  });

  it("a WebSocket handshake to the upstream carries the injected headers too, replacing the client's copy", async () => {
    const base = await listen(h);
    const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/ws`, [], { headers: { host: "app.test", origin: "http://app.test", cookie: appCookie, authorization: "Bearer client" } });
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
      ws.once("message", (data) => {
        resolve((JSON.parse(String(data)) as { hello: { headers: Record<string, string> } }).hello);
        ws.terminate();
      });
    });
    expect(hello.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect(hello.headers["x-own-key"]).toBe(OWN_KEY);
  });

  it("rotate (a new active key in the file, then the rewrap): both kinds of secret are re-encrypted and still open; the running server keeps injecting", async () => {
    // What `gatehouse keys rotate` does: a new active key in the keyring file, then every envelope re-encrypted under it.
    writeKeyringFile(keyring, { active: "k1", keys: [K0, K1] });
    const rotatedBox = createSecretBox(keyringSource({ file: keyring, activeId: "k1", keys: [K0, K1] }), cryptoRandom);
    const reports = await rewrapSecrets(h.gh.database.db, rotatedBox);
    expect(reports.filter((r) => r.table.includes("vault")).map((r) => [r.table, r.rewrapped, r.unreadable])).toEqual([
      ["vault_secrets", 1, 0],
      ["user_vault_secrets", 1, 0],
    ]);
    expect(await keyIds()).toEqual(["k1", "k1"]);

    // The running server (still holding k0 only) re-reads the file on the unknown key id once its cache runs out.
    h.clock.advance(VAULT_CACHE_MS + 1);
    const seen = await injected();
    expect(seen.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect(seen["x-own-key"]).toBe(OWN_KEY);

    // The old key can then go: a vault over k1 alone reads every secret.
    const onlyNew = createVault({
      store: h.gh.stores.vault,
      box: createSecretBox({ current: () => keyringOf({ file: null, activeId: "k1", keys: [K1] }) }, cryptoRandom),
      audit: h.gh.audit,
      clock: h.clock,
      random: cryptoRandom,
      allowedUserNames: () => new Set(["mine"]),
    });
    const rendered = await onlyNew.render(
      [
        { header: "authorization", template: { parts: [{ text: "Bearer " }, { secret: "openai" }] } },
        { header: "x-own-key", template: { parts: [{ userSecret: "mine" }] } },
      ],
      userId,
    );
    expect(Object.fromEntries(rendered)).toEqual({ authorization: `Bearer ${OPERATOR_KEY}`, "x-own-key": OWN_KEY });
  });
});
