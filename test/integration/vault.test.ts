import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VAULT_CACHE_MS } from "../../src/core/vault/vault.js";
import { backendNames } from "../helpers/backends.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";

/** Two upstream hosts; app.test injects the operator's key on /api/chat and the user's own key on /api/byok and /public/byok. */
function rules(upstream: string): string {
  return `
access_control:
  default_policy: deny
  rules:
    - domain: [app.test, other.test]
      resources: ["^/public/"]
      policy: bypass
    - domain: [app.test, other.test]
      policy: one_factor
upstreams:
  - domain: app.test
    url: ${upstream}
    inject_headers:
      - header: Authorization
        value: "Bearer \${secret:openai}"
        resources: ["^/api/chat"]
      - header: X-User-Key
        value: "\${user_secret:anthropic}"
        resources: ["^/api/byok", "^/public/byok"]
  - domain: other.test
    url: ${upstream}
`;
}

// Long enough to show a prefix (16+ characters), distinctive enough to search for anywhere.
const OPERATOR_KEY = "sk-operator-4f1c9e2b7a6d5e3f0a1b";
const OPERATOR_KEY_2 = "sk-operator-rotated-99aa88bb77cc66";
const USER_A_KEY = "sk-ant-usera-7e6d5c4b3a291807";
const USER_B_KEY = "sk-ant-userb-0a9b8c7d6e5f4031";

describe.each(backendNames())("secret vault: write-only API, audit, and headers injected by the reverse proxy (%s)", (backend) => {
  let h: Harness;
  let upstream: EchoUpstream;
  let dir: string;
  let sup: { cookie: string; id: string; name: string };
  const responses: string[] = [];

  /** Every answer of Gatehouse's own API is kept, to prove no value ever appears in one. */
  const api = async (method: "GET" | "PUT" | "DELETE", url: string, cookie?: string, json?: unknown, headers: Record<string, string> = {}) => {
    const res = await h.request({ method, url, ...(cookie ? { cookie } : {}), ...(json !== undefined ? { json } : {}), headers });
    responses.push(res.body);
    return res;
  };

  /** A request to the app on `host` (through the reverse proxy); returns what the upstream received. */
  const toApp = async (host: string, path: string, cookie?: string, headers: Record<string, string> = {}) => {
    upstream.seen.length = 0;
    const res = await h.request({ method: "GET", url: path, ...(cookie ? { cookie } : {}), headers: { host, ...headers } });
    expect(res.statusCode, res.body.slice(0, 200)).toBe(200);
    expect(upstream.seen).toHaveLength(1);
    return upstream.seen[0]!.headers;
  };

  /** Signs in on the app's own host (its host-only cookie), as a browser of the app would. */
  const appCookie = async (name: string, host = "app.test") => {
    const login = await h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: name, password: GOOD_PASSWORD }, headers: { host, origin: `http://${host}` } });
    expect(login.statusCode).toBe(200);
    return sessionCookieFrom(login) as string;
  };

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-"));
    writeFileSync(join(dir, "gatehouse.yml"), rules(upstream.url));
    // The access log on, so the leakage check covers it too.
    h = await startHarness(backend, { GATEHOUSE_CONFIG: join(dir, "gatehouse.yml"), ACCESS_LOG: "on" });
    sup = await h.account("superadmin");
  });
  afterAll(async () => {
    await h?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  it("a superadmin stores a secret: 201, then 200 on replace; lists and shows metadata and a 4-character prefix, never the value", async () => {
    const created = await api("PUT", "/api/admin/secrets/openai", sup.cookie, { value: OPERATOR_KEY });
    expect(created.statusCode).toBe(201);
    expect(created.json().secret).toMatchObject({ name: "openai", prefix: "sk-o", updatedBy: sup.id });
    const again = await api("PUT", "/api/admin/secrets/openai", sup.cookie, { value: OPERATOR_KEY });
    expect(again.statusCode).toBe(200);
    const short = await api("PUT", "/api/admin/secrets/webhook-token", sup.cookie, { value: "short-token-15ch" .slice(0, 15) });
    expect(short.statusCode).toBe(201);
    expect(short.json().secret.prefix).toBeNull();

    const list = await api("GET", "/api/admin/secrets", sup.cookie);
    expect(list.statusCode).toBe(200);
    expect(list.json().secrets.map((s: { name: string; prefix: string | null }) => [s.name, s.prefix])).toEqual([["openai", "sk-o"], ["webhook-token", null]]);
    const one = await api("GET", "/api/admin/secrets/openai", sup.cookie);
    expect(Object.keys(one.json().secret).sort()).toEqual(["createdAt", "name", "prefix", "updatedAt", "updatedBy"]);
    expect((await api("GET", "/api/admin/secrets/missing", sup.cookie)).statusCode).toBe(404);

    expect((await api("DELETE", "/api/admin/secrets/webhook-token", sup.cookie)).statusCode).toBe(204);
    expect((await api("DELETE", "/api/admin/secrets/webhook-token", sup.cookie)).statusCode).toBe(404);
    expect((await api("GET", "/api/admin/secrets/webhook-token", sup.cookie)).statusCode).toBe(404);
  });

  it("only a superadmin with a session: anonymous 401, a user or an admin 403, an admin:write token 403", async () => {
    const user = await h.account("user");
    const admin = await h.account("admin");
    const tokenRes = await h.request({ method: "POST", url: "/api/account/tokens", cookie: admin.cookie, json: { name: "vault probe", scopes: ["admin:write", "admin:read"] } });
    const token = tokenRes.json().secret as string;
    for (const [method, json] of [["GET", undefined], ["PUT", { value: "x".repeat(20) }], ["DELETE", undefined]] as const) {
      expect((await api(method, "/api/admin/secrets/openai", undefined, json)).statusCode, method).toBe(401);
      for (const cookie of [user.cookie, admin.cookie]) {
        const res = await api(method, "/api/admin/secrets/openai", cookie, json);
        expect(res.statusCode, method).toBe(403);
        expect(res.json().code).toBe("forbidden");
      }
      expect((await api(method, "/api/admin/secrets/openai", undefined, json, { authorization: `Bearer ${token}` })).statusCode, method).toBe(403);
    }
    expect((await api("GET", "/api/admin/secrets", undefined, undefined, { authorization: `Bearer ${token}` })).statusCode).toBe(403);
  });

  it("attack: cross-site write — a PUT from another origin is refused with csrf before anything is stored", async () => {
    const res = await api("PUT", "/api/admin/secrets/openai", sup.cookie, { value: "attacker-controlled-value-123" }, { origin: "https://evil.test" });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("csrf");
    expect((await api("GET", "/api/admin/secrets/openai", sup.cookie)).json().secret.prefix).toBe("sk-o");
  });

  it("bad names and values are 400 JSON naming the field, never echoing the value", async () => {
    for (const name of ["Upper", "-dash-first", "a".repeat(65), "sp%20ace", "dot.ted"]) {
      const res = await api("PUT", `/api/admin/secrets/${name}`, sup.cookie, { value: "x".repeat(20) });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().code).toBe("invalid_request");
    }
    for (const value of ["line\r\nInjected: 1", "nul\u0000byte-value", "tab\tvalue", "ünïcode-value", " leading-space", "", "x".repeat(8193)]) {
      const res = await api("PUT", "/api/admin/secrets/bad-value", sup.cookie, { value });
      expect(res.statusCode, JSON.stringify(value.slice(0, 20))).toBe(400);
      expect(res.json().code).toBe("invalid_request");
      if (value.length > 3) expect(res.body).not.toContain(value.slice(0, 12));
    }
    expect((await api("PUT", "/api/admin/secrets/bad-value", sup.cookie, {})).statusCode).toBe(400);
    expect((await api("PUT", "/api/admin/secrets/bad-value", sup.cookie, { value: "x".repeat(8192) })).statusCode).toBe(201);
    expect((await api("DELETE", "/api/admin/secrets/bad-value", sup.cookie)).statusCode).toBe(204);
  });

  it("a change needs a recent re-authentication (reauth_required after 10 minutes)", async () => {
    const other = await h.account("superadmin");
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: other.cookie })).statusCode).toBe(200);
    }
    for (const [method, json] of [["PUT", { value: "y".repeat(20) }], ["DELETE", undefined]] as const) {
      const stale = await api(method, "/api/admin/secrets/openai", other.cookie, json);
      expect(stale.statusCode).toBe(403);
      expect(stale.json().code).toBe("reauth_required");
    }
    expect((await api("GET", "/api/admin/secrets/openai", other.cookie)).statusCode).toBe(200);
  });

  it("done when: the app receives the injected key on its named route only", async () => {
    const user = await h.account("user");
    const cookie = await appCookie(user.name);
    expect((await toApp("app.test", "/api/chat/completions", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect((await toApp("app.test", "/api/chat", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    // Another route of the same app, and the same route on another upstream host: nothing injected.
    expect((await toApp("app.test", "/api/other", cookie)).authorization).toBeUndefined();
    expect((await toApp("app.test", "/chat/api/chat", cookie)).authorization).toBeUndefined();
    const otherCookie = await appCookie(user.name, "other.test");
    expect((await toApp("other.test", "/api/chat", otherCookie)).authorization).toBeUndefined();
  });

  it("attack: client supplies its own injected header — the injected value replaces it, whatever its case", async () => {
    const user = await h.account("user");
    const cookie = await appCookie(user.name);
    for (const name of ["Authorization", "authorization", "AUTHORIZATION"]) {
      upstream.seen.length = 0;
      await h.request({ method: "GET", url: "/api/chat", cookie, headers: { host: "app.test", [name]: "Bearer attacker" } });
      const seen = upstream.seen[0]!;
      expect(seen.headers.authorization).toBe(`Bearer ${OPERATOR_KEY}`);
      expect(seen.rawHeaders.filter((x) => x.toLowerCase() === "authorization")).toHaveLength(1);
    }
    // Elsewhere the app's own Authorization header passes as it always did.
    expect((await toApp("app.test", "/api/other", cookie, { authorization: "Bearer app-own" })).authorization).toBe("Bearer app-own");
  });

  it("attack: request smuggling through a placeholder path — an encoded or dot-segment path to the route is matched canonically", async () => {
    const user = await h.account("user");
    const cookie = await appCookie(user.name);
    expect((await toApp("app.test", "/x/../api/chat", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
    expect((await toApp("app.test", "/api/ch%61t", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
  });

  it("a replaced secret is injected at once; a deleted one removes the header (and any client copy), never a placeholder", async () => {
    const user = await h.account("user");
    const cookie = await appCookie(user.name);
    // A superadmin who just signed in (the clock moved past the first one's re-authentication window).
    const fresh = await h.account("superadmin");
    expect((await api("PUT", "/api/admin/secrets/openai", fresh.cookie, { value: OPERATOR_KEY_2 })).statusCode).toBe(200);
    expect((await toApp("app.test", "/api/chat", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY_2}`);
    expect((await api("DELETE", "/api/admin/secrets/openai", fresh.cookie)).statusCode).toBe(204);
    const seen = await toApp("app.test", "/api/chat", cookie, { authorization: "Bearer client" });
    expect(seen.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain("${");
    expect((await api("PUT", "/api/admin/secrets/openai", fresh.cookie, { value: OPERATOR_KEY })).statusCode).toBe(201);
    expect((await toApp("app.test", "/api/chat", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
  });

  it("users store their own keys, only under names the rules use; injected only into that user's requests", async () => {
    const a = await h.account("user");
    const b = await h.account("user");
    const c = await h.account("user");
    const listed = await api("GET", "/api/account/secrets", a.cookie);
    expect(listed.json().secrets).toEqual([{ name: "anthropic", allowed: true, stored: false, prefix: null, updatedAt: null }]);
    // A name no rule injects cannot be stored (not even an operator secret's name).
    for (const name of ["openai", "anything"]) {
      const res = await api("PUT", `/api/account/secrets/${name}`, a.cookie, { value: USER_A_KEY });
      expect(res.statusCode, name).toBe(400);
      expect(res.json().code).toBe("invalid_request");
    }
    expect((await api("PUT", "/api/account/secrets/anthropic", a.cookie, { value: USER_A_KEY })).statusCode).toBe(201);
    expect((await api("PUT", "/api/account/secrets/anthropic", b.cookie, { value: USER_B_KEY })).statusCode).toBe(201);
    const shown = await api("GET", "/api/account/secrets/anthropic", a.cookie);
    expect(shown.json().secret).toMatchObject({ name: "anthropic", stored: true, prefix: "sk-a" });

    const cookieA = await appCookie(a.name);
    const cookieB = await appCookie(b.name);
    const cookieC = await appCookie(c.name);
    expect((await toApp("app.test", "/api/byok/messages", cookieA))["x-user-key"]).toBe(USER_A_KEY);
    expect((await toApp("app.test", "/api/byok/messages", cookieB))["x-user-key"]).toBe(USER_B_KEY);
    // attack: another user (without a key) sends one: removed, never someone else's.
    expect((await toApp("app.test", "/api/byok/messages", cookieC, { "x-user-key": USER_A_KEY.slice(0, 10) }))["x-user-key"]).toBeUndefined();
    // Anonymous on a bypass route: nothing, and the client's copy is removed.
    expect((await toApp("app.test", "/public/byok", undefined, { "x-user-key": "forged" }))["x-user-key"]).toBeUndefined();
    // A signed-in user on the bypass route does get their key.
    expect((await toApp("app.test", "/public/byok", cookieA))["x-user-key"]).toBe(USER_A_KEY);
    // Not on another route.
    expect((await toApp("app.test", "/api/chat", cookieA))["x-user-key"]).toBeUndefined();

    // Deleting needs no re-authentication; the header goes at once.
    expect((await api("DELETE", "/api/account/secrets/anthropic", a.cookie)).statusCode).toBe(204);
    expect((await api("DELETE", "/api/account/secrets/anthropic", a.cookie)).statusCode).toBe(404);
    expect((await toApp("app.test", "/api/byok/messages", cookieA))["x-user-key"]).toBeUndefined();
    expect((await toApp("app.test", "/api/byok/messages", cookieB))["x-user-key"]).toBe(USER_B_KEY);
  });

  it("a user's key: tokens refused, anonymous 401, storing needs a recent re-authentication", async () => {
    const u = await h.account("user");
    const tokenRes = await h.request({ method: "POST", url: "/api/account/tokens", cookie: u.cookie, json: { name: "probe", scopes: ["read:account"] } });
    const token = tokenRes.json().secret as string;
    expect((await api("GET", "/api/account/secrets", undefined, undefined, { authorization: `Bearer ${token}` })).statusCode).toBe(403);
    expect((await api("PUT", "/api/account/secrets/anthropic", undefined, { value: USER_A_KEY })).statusCode).toBe(401);
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: u.cookie })).statusCode).toBe(200);
    }
    const stale = await api("PUT", "/api/account/secrets/anthropic", u.cookie, { value: USER_A_KEY });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
  });

  it("attack: an envelope moved from another row does not open — the header is not sent, the log names the secret, never a value", async () => {
    const user = await h.account("user");
    const cookie = await appCookie(user.name);
    const db = h.gh.database.db;
    const original = (await db.selectFrom("vault_secrets").select("secret_envelope").where("name", "=", "openai").executeTakeFirstOrThrow()).secret_envelope;
    const other = (await db.selectFrom("user_vault_secrets").select("secret_envelope").executeTakeFirstOrThrow()).secret_envelope;
    await db.updateTable("vault_secrets").set({ secret_envelope: other }).where("name", "=", "openai").execute();
    h.clock.advance(VAULT_CACHE_MS + 1);
    const seen = await toApp("app.test", "/api/chat", cookie, { authorization: "Bearer client" });
    expect(seen.authorization).toBeUndefined();
    expect(h.logs.text()).toContain("a vault secret cannot be decrypted");
    await db.updateTable("vault_secrets").set({ secret_envelope: original }).where("name", "=", "openai").execute();
    h.clock.advance(VAULT_CACHE_MS + 1);
    expect((await toApp("app.test", "/api/chat", cookie)).authorization).toBe(`Bearer ${OPERATOR_KEY}`);
  });

  it("every change is audited as secret_changed with name, action and scope, never the value", async () => {
    const events = (await h.gh.stores.audit.list({ type: "secret_changed", limit: 100 })) as { actorId: string | null; userId: string | null; details: Record<string, unknown> }[];
    expect(events.length).toBeGreaterThanOrEqual(8);
    expect(events.some((e) => e.details.name === "openai" && e.details.action === "created" && e.details.scope === "global" && e.actorId === sup.id)).toBe(true);
    expect(events.some((e) => e.details.name === "openai" && e.details.action === "deleted" && e.details.scope === "global")).toBe(true);
    expect(events.some((e) => e.details.name === "anthropic" && e.details.action === "created" && e.details.scope === "user" && e.userId === e.actorId)).toBe(true);
    for (const e of events) expect(Object.keys(e.details).sort()).toEqual(["action", "name", "scope"]);
    const all = JSON.stringify(await h.gh.stores.audit.list({ limit: 1000 }));
    for (const value of [OPERATOR_KEY, OPERATOR_KEY_2, USER_A_KEY, USER_B_KEY]) expect(all).not.toContain(value);
  });

  it("leakage: no value in any API answer, the logs or the database in plaintext", async () => {
    const everything = responses.join("\n");
    const logs = h.logs.text();
    expect(logs).toContain("/api/chat");
    const rows = JSON.stringify([
      await h.gh.database.db.selectFrom("vault_secrets").selectAll().execute(),
      await h.gh.database.db.selectFrom("user_vault_secrets").selectAll().execute(),
    ]);
    for (const value of [OPERATOR_KEY, OPERATOR_KEY_2, USER_A_KEY, USER_B_KEY]) {
      expect(everything).not.toContain(value.slice(4));
      expect(logs).not.toContain(value);
      expect(rows).not.toContain(value.slice(4));
    }
  });
});
