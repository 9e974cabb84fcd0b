import { createHash } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { Harness } from "./harness.js";

/** The signed-in user endpoint every attack probes. */
export const ME = "/api/auth/me";

/** The value part of a `name=value` cookie header. */
export function tokenOf(cookie: string): string {
  return cookie.slice(cookie.indexOf("=") + 1);
}

/** SHA-256, hex: the only form a session token may be stored in. */
export function sha256hex(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** A well-formed (43 base64url characters) session token nobody was ever issued. */
export function forgedToken(): string {
  return createHash("sha256").update(`forged-${performance.now()}-${process.hrtime.bigint()}`).digest("base64url");
}

/** Status of GET /api/auth/me with this cookie header (or none). */
export async function meStatus(h: Harness, cookie?: string): Promise<number> {
  return (await h.request({ method: "GET", url: ME, ...(cookie ? { cookie } : {}) })).statusCode;
}

/** Every raw `Set-Cookie` header of a response. */
export function rawSetCookies(res: LightMyRequestResponse): string[] {
  const v = res.headers["set-cookie"];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [String(v)];
}

/** A `Set-Cookie` header parsed the way a browser reads it; attribute names lower-cased. */
export interface ParsedSetCookie {
  name: string;
  value: string;
  attrs: Map<string, string>;
}

export function parseSetCookie(raw: string): ParsedSetCookie {
  const [pair = "", ...rest] = raw.split(";");
  const eq = pair.indexOf("=");
  const attrs = new Map<string, string>();
  for (const part of rest) {
    const i = part.indexOf("=");
    const key = (i === -1 ? part : part.slice(0, i)).trim().toLowerCase();
    attrs.set(key, i === -1 ? "" : part.slice(i + 1).trim());
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

/** The one session `Set-Cookie` of a response (fails the test if there is not exactly one). */
export function sessionSetCookie(res: LightMyRequestResponse): ParsedSetCookie {
  const cookies = rawSetCookies(res).map(parseSetCookie).filter((c) => c.name.endsWith("gatehouse_session"));
  expect(cookies, "exactly one session Set-Cookie").toHaveLength(1);
  return cookies[0]!;
}

/** True when the response tells the browser to drop the session cookie. */
export function clearsSessionCookie(res: LightMyRequestResponse): boolean {
  return rawSetCookies(res)
    .map(parseSetCookie)
    .some((c) => c.name.endsWith("gatehouse_session") && c.value === "" && (c.attrs.get("max-age") === "0" || c.attrs.has("expires")));
}

const LEAK_MARKERS = ["at ", "node_modules", "SELECT", "select ", "/work/", "Error:", "sqlite", "postgres", ".ts:"];

/**
 * Asserts the docs/api.md error shape: exactly `{error, code}` plus an optional
 * `fields` list of names, and nothing that looks like a stack, SQL or a path.
 */
export function expectErrorBody(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(String(res.headers["content-type"])).toMatch(/^application\/json; charset=utf-8$/i);
  const body = res.json() as Record<string, unknown>;
  expect(body.code).toBe(code);
  expect(typeof body.error).toBe("string");
  const keys = Object.keys(body).sort();
  expect(keys.filter((k) => k !== "fields")).toEqual(["code", "error"]);
  if ("fields" in body) {
    expect(Array.isArray(body.fields)).toBe(true);
    for (const f of body.fields as unknown[]) expect(String(f)).toMatch(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/);
  }
  for (const marker of LEAK_MARKERS) expect(res.body, `error body leaks "${marker}"`).not.toContain(marker);
}

/** Number of rows in the users table (also proves the table still exists). */
export async function countUsers(h: Harness): Promise<number> {
  const row = await h.gh.database.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** True when a user with this (normalized) username exists. */
export async function userExists(h: Harness, username: string): Promise<boolean> {
  const row = await h.gh.database.db.selectFrom("users").select("id").where("username_normalized", "=", username.trim().toLowerCase()).executeTakeFirst();
  return row !== undefined;
}

/** POST a JSON body (as a raw string, so `__proto__` keys survive) to a route. */
export function postRaw(h: Harness, url: string, payload: string, headers: Record<string, string | null> = {}, cookie?: string) {
  return h.request({
    method: "POST",
    url,
    payload,
    headers: { "content-type": "application/json", ...headers },
    ...(cookie ? { cookie } : {}),
  });
}

/** Fresh account names (the one shared helper). */
export { uname } from "./names.js";
