import { randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { PRINCIPALS, ROUTE_POLICY, TARGET_KINDS, TARGET_POLICY, type Principal, type TargetKind } from "./route-policy.js";

/**
 * "N" when the answer is a denial: 401, a 303 to the sign-in page, or a 403
 * `forbidden` (JSON code, or a page marked data-error="forbidden"); else "Y".
 */
function outcomeOf(res: LightMyRequestResponse): "Y" | "N" {
  const isHtml = String(res.headers["content-type"] ?? "").startsWith("text/html");
  const code = isHtml ? /data-error="([a-z_]+)"/.exec(res.body)?.[1] : res.statusCode === 403 ? res.json().code : undefined;
  const toLogin = res.statusCode === 303 && /\/login(\?|$)/.test(String(res.headers.location ?? ""));
  return res.statusCode === 401 || toLogin || (res.statusCode === 403 && code === "forbidden") ? "N" : "Y";
}

/** Routes that change the account named by `:id`: each needs its rows in TARGET_POLICY. */
const ACTS_ON_ACCOUNT = /^(POST|PUT|PATCH|DELETE) \S*\/users\/:id(\/|$)/;

const OWNER_ROLE: Record<Exclude<Principal, "anonymous">, Role> = {
  user: "user",
  admin: "admin",
  superadmin: "superadmin",
  "token:read:account": "user",
  "token:admin:read": "admin",
  "token:admin:write": "admin",
};
const TARGET_ROLE: Record<Exclude<TargetKind, "self">, Role> = { user: "user", "another admin": "admin", superadmin: "superadmin" };

describe.each(backendNames())("AZ-01 policy matrix: every route × every principal against the checked-in table (%s)", (backend) => {
  let h: Harness;
  const credentials = new Map<Principal, Record<string, string>>();
  const token = async (cookie: string, scope: string) => {
    const res = await h.request({ method: "POST", url: "/api/account/tokens", cookie, json: { name: `matrix ${scope}`, scopes: [scope] } });
    if (res.statusCode !== 201) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return { authorization: `Bearer ${res.json().secret as string}` };
  };

  beforeAll(async () => {
    // METRICS=on, so /metrics is among the routes checked (off, it does not exist).
    h = await startHarness(backend, { METRICS: "on", METRICS_TOKEN: "policy-metrics-token-0123456789" });
    credentials.set("anonymous", {});
    const user = await h.account("user");
    const admin = await h.account("admin");
    const sup = await h.account("superadmin");
    credentials.set("user", { cookie: user.cookie });
    credentials.set("admin", { cookie: admin.cookie });
    credentials.set("superadmin", { cookie: sup.cookie });
    credentials.set("token:read:account", await token(user.cookie, "read:account"));
    credentials.set("token:admin:read", await token(admin.cookie, "admin:read"));
    credentials.set("token:admin:write", await token(admin.cookie, "admin:write"));
  });
  afterAll(async () => h?.close());

  it("every declared route is in the reviewed table, and every row of the table is a route", () => {
    const declared = h.gh.app.routeTable.map((r) => `${r.method} ${r.url}`).sort();
    expect(declared).toEqual(Object.keys(ROUTE_POLICY).sort());
    expect(h.gh.app.routeTable.filter((r) => r.access === undefined)).toEqual([]);
  });

  for (const [route, row] of Object.entries(ROUTE_POLICY)) {
    it(`${route}: ${row}`, async () => {
      const [method, template] = route.split(" ") as [string, string];
      const url = template.replace(":id", randomUUID()).replace(":ip", "192.0.2.1");
      const outcomes: string[] = [];
      for (const [i, principal] of PRINCIPALS.entries()) {
        const { cookie, authorization } = credentials.get(principal) ?? {};
        // A body no route accepts: an allowed caller stops at validation, so the matrix changes nothing.
        const res = await h.request({
          method: method as "GET",
          url,
          ...(cookie ? { cookie } : {}),
          ...(method === "GET" ? {} : { json: { __matrix: true } }),
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode, `${principal}: ${res.body}`).toBeLessThan(500);
        // Web pages deny in HTML: an anonymous visitor gets a 303 to the sign-in page, anyone else a 403 page
        // marked data-error="forbidden"; the API denies with 401 or a JSON 403 "forbidden".
        const outcome = outcomeOf(res);
        outcomes.push(outcome);
        expect(outcome, `${route} as ${principal} → ${res.statusCode} ${res.body.slice(0, 120)}`).toBe(row[i]);
      }
      expect(outcomes.join("")).toBe(row);
    });
  }

  // Acting on an account (TARGET_POLICY): a real target of each kind and a body that passes validation, so the
  // request reaches the rule of who may act on whom. A target a request changed is replaced by a fresh one.
  it("every route that changes the account :id has target rows, and every target row is such a route", () => {
    const acting = Object.keys(ROUTE_POLICY).filter((r) => ACTS_ON_ACCOUNT.test(r)).sort();
    const covered = [...new Set(Object.keys(TARGET_POLICY).map((k) => k.replace(/ \{\w+\}$/, "")))].sort();
    expect(covered).toEqual(acting);
  });

  type Account = { cookie: string; id: string; name: string };
  const targets = new Map<Exclude<TargetKind, "self">, Account>();
  async function targetOf(kind: Exclude<TargetKind, "self">): Promise<Account> {
    let t = targets.get(kind);
    if (!t) targets.set(kind, (t = await h.account(TARGET_ROLE[kind])));
    return t;
  }

  /** A fresh principal with its own account (for the `self` column): the account, and how it signs its requests. */
  async function freshPrincipal(principal: Exclude<Principal, "anonymous">): Promise<{ account: Account; creds: Record<string, string> }> {
    const account = await h.account(OWNER_ROLE[principal]);
    if (!principal.startsWith("token:")) return { account, creds: { cookie: account.cookie } };
    return { account, creds: await token(account.cookie, principal.slice("token:".length)) };
  }

  /** The request body that makes route `key` do its action on `target` (a field in braces picks the PATCH). */
  function bodyFor(key: string, target: { role: Role }): Record<string, string | boolean> | undefined {
    const otherRole = target.role === "user" ? "admin" : "user";
    if (key.endsWith("{role}")) return { role: otherRole };
    if (key.endsWith("{blocked}")) return { blocked: true };
    if (key === "POST /admin/users/:id/role") return { role: otherRole, confirm: "yes" };
    if (key === "POST /admin/users/:id/block") return { blocked: "true" };
    return key.startsWith("POST /admin/") ? {} : undefined;
  }

  async function send(key: string, creds: Record<string, string>, id: string, role: Role): Promise<LightMyRequestResponse> {
    const [method, template] = key.split(" ") as [string, string];
    const url = template.replace(":id", id);
    const body = bodyFor(key, { role });
    if (!template.startsWith("/api/")) {
      // A dashboard form, posted like a browser: the CSRF field from a page the same session loaded.
      const b = new WebClient(h);
      if (creds.cookie) {
        const [k, v] = creds.cookie.split("=") as [string, string];
        b.jar.set(k, v);
        await b.get("/account");
      }
      return b.post(url, Object.fromEntries(Object.entries(body ?? {}).map(([k, v]) => [k, String(v)])), creds.authorization ? { authorization: creds.authorization } : {});
    }
    return h.request({
      method: method as "PATCH",
      url,
      ...(creds.cookie ? { cookie: creds.cookie } : {}),
      ...(body !== undefined ? { json: body } : {}),
      headers: creds.authorization ? { authorization: creds.authorization } : {},
    });
  }

  /** What a denied request must have left as it was: the row and the account's own session. */
  async function snapshot(account: Account) {
    const row = await h.gh.stores.users.findById(account.id);
    const me = await h.request({ method: "GET", url: "/api/auth/me", cookie: account.cookie });
    return { role: row?.role, blocked: row?.blocked, exists: row !== null, signedIn: me.statusCode };
  }

  for (const [key, rows] of Object.entries(TARGET_POLICY)) {
    for (const kind of TARGET_KINDS) {
      const row = rows[kind];
      it(`${key} on ${kind}: ${row}`, async () => {
        const outcomes: string[] = [];
        for (const [i, principal] of PRINCIPALS.entries()) {
          let creds = credentials.get(principal) ?? {};
          let target: Account;
          if (kind === "self" && principal !== "anonymous") {
            const fresh = await freshPrincipal(principal);
            creds = fresh.creds;
            target = fresh.account;
          } else {
            target = await targetOf(kind === "self" ? "user" : kind);
          }
          const role = (await h.gh.stores.users.findById(target.id))!.role;
          const before = await snapshot(target);
          const res = await send(key, creds, target.id, role);
          expect(res.statusCode, `${principal}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
          const outcome = outcomeOf(res);
          outcomes.push(outcome);
          if (outcome === "N") expect(await snapshot(target), `${key} on ${kind} as ${principal}: refused, yet the target changed`).toEqual(before);
          else {
            // Allowed means the action really ran (or met a later refusal such as 409 mail_unavailable), not that
            // the request stopped early at validation or the CSRF check.
            expect([200, 202, 204, 303, 409], `${key} on ${kind} as ${principal} → ${res.statusCode} ${res.body.slice(0, 160)}`).toContain(res.statusCode);
            if (kind !== "self") targets.delete(kind);
          }
          expect(outcome, `${key} on ${kind} as ${principal} → ${res.statusCode} ${res.body.slice(0, 160)}`).toBe(row[i]);
        }
        expect(outcomes.join("")).toBe(row);
      });
    }
  }
});
