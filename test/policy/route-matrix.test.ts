import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { PRINCIPALS, ROUTE_POLICY, type Principal } from "./route-policy.js";

describe.each(backendNames())("AZ-01 policy matrix: every route × every principal against the checked-in table (%s)", (backend) => {
  let h: Harness;
  const credentials = new Map<Principal, Record<string, string>>();

  beforeAll(async () => {
    h = await startHarness(backend);
    credentials.set("anonymous", {});
    const user = await h.account("user");
    const admin = await h.account("admin");
    const sup = await h.account("superadmin");
    credentials.set("user", { cookie: user.cookie });
    credentials.set("admin", { cookie: admin.cookie });
    credentials.set("superadmin", { cookie: sup.cookie });
    const token = async (cookie: string, scope: string) => {
      const res = await h.request({ method: "POST", url: "/api/account/tokens", cookie, json: { name: `matrix ${scope}`, scopes: [scope] } });
      if (res.statusCode !== 201) throw new Error(`token: ${res.statusCode} ${res.body}`);
      return { authorization: `Bearer ${res.json().secret as string}` };
    };
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
        const isHtml = String(res.headers["content-type"] ?? "").startsWith("text/html");
        const code = isHtml ? /data-error="([a-z_]+)"/.exec(res.body)?.[1] : res.statusCode === 403 ? res.json().code : undefined;
        const toLogin = res.statusCode === 303 && /\/login(\?|$)/.test(String(res.headers.location ?? ""));
        const denied = res.statusCode === 401 || toLogin || (res.statusCode === 403 && code === "forbidden");
        outcomes.push(denied ? "N" : "Y");
        expect(denied ? "N" : "Y", `${route} as ${principal} → ${res.statusCode} ${res.body.slice(0, 120)}`).toBe(row[i]);
      }
      expect(outcomes.join("")).toBe(row);
    });
  }
});
