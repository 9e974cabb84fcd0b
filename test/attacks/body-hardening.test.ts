import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { countUsers, expectErrorBody, postRaw, uname, userExists } from "../helpers/attacks.js";

const REGISTER = "/api/auth/register";
const LOGIN = "/api/auth/login";

describe.each(backendNames())("attack: hostile request bodies (%s)", (backend) => {
  let h: Harness;
  let cookie: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    ({ cookie } = await h.register(uname("bodyowner")));
  });
  afterAll(async () => h?.close());

  it("CSRF via text/plain: a JSON-looking text/plain body is 415 on login and register, and no user appears", async () => {
    const before = await countUsers(h);
    const username = uname("bodytext");
    for (const url of [LOGIN, REGISTER]) {
      const res = await postRaw(h, url, JSON.stringify({ username, password: GOOD_PASSWORD }), { "content-type": "text/plain" });
      expectErrorBody(res, 415, "unsupported_media_type");
    }
    expect(await countUsers(h)).toBe(before);
  });

  it("CSRF via form posts: urlencoded and multipart bodies are 415", async () => {
    const username = uname("bodyform");
    const form = await postRaw(h, REGISTER, `username=${username}&password=${GOOD_PASSWORD}`, { "content-type": "application/x-www-form-urlencoded" });
    expectErrorBody(form, 415, "unsupported_media_type");
    const boundary = "----x";
    const multipart = [`--${boundary}`, 'Content-Disposition: form-data; name="username"', "", username, `--${boundary}--`, ""].join("\r\n");
    const mp = await postRaw(h, REGISTER, multipart, { "content-type": `multipart/form-data; boundary=${boundary}` });
    expectErrorBody(mp, 415, "unsupported_media_type");
    expect(await userExists(h, username)).toBe(false);
  });

  it("content-type confusion: a JSON body with no Content-Type, or a look-alike type, is refused", async () => {
    const payload = JSON.stringify({ username: uname("bodynoct"), password: GOOD_PASSWORD });
    const none = await h.request({ method: "POST", url: REGISTER, payload });
    expect(none.statusCode).toBe(415);
    const lookalike = await postRaw(h, REGISTER, payload, { "content-type": "application/jsonx" });
    expect(lookalike.statusCode).toBe(415);
  });

  it("oversized body: 1 MiB of JSON is 413 payload_too_large", async () => {
    const res = await postRaw(h, LOGIN, JSON.stringify({ username: "x", password: "a".repeat(1024 * 1024) }));
    expectErrorBody(res, 413, "payload_too_large");
  });

  it("malformed JSON is 400 invalid_json", async () => {
    for (const payload of ['{"username": "a", "password": ', "{'username':'a'}", "[1,2", "\u0000"]) {
      expectErrorBody(await postRaw(h, LOGIN, payload), 400, "invalid_json");
    }
  });

  it("deep nesting: 5000 nested arrays are 400 and the server keeps answering", async () => {
    const res = await postRaw(h, LOGIN, `${"[".repeat(5000)}${"]".repeat(5000)}`);
    expect(res.statusCode).toBe(400);
    expectErrorBody(res, 400, res.json().code);
    const nestedField = await postRaw(h, REGISTER, `{"username":${"[".repeat(5000)}${"]".repeat(5000)},"password":"x"}`);
    expect(nestedField.statusCode).toBe(400);
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });

  it("prototype pollution: __proto__ and constructor.prototype in a register body are 400 and create nobody", async () => {
    for (const extra of ['"__proto__":{"role":"admin"}', '"constructor":{"prototype":{"isAdmin":true}}', '"x":{"__proto__":{"role":"admin"}}']) {
      const username = uname("bodyproto");
      const res = await postRaw(h, REGISTER, `{"username":"${username}","password":"${GOOD_PASSWORD}",${extra}}`);
      expectErrorBody(res, 400, "invalid_request");
      expect(await userExists(h, username), extra).toBe(false);
    }
    expect(({} as Record<string, unknown>).role).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it("prototype pollution via the query string: ?__proto__[isAdmin]=1 and ?constructor[prototype][x]=1 are 400", async () => {
    for (const q of ["__proto__[isAdmin]=1", "__proto__.isAdmin=1", "constructor[prototype][isAdmin]=1"]) {
      const username = uname("bodyqproto");
      const res = await h.request({ method: "POST", url: `${REGISTER}?${q}`, json: { username, password: GOOD_PASSWORD } });
      expectErrorBody(res, 400, "invalid_request");
      expect(await userExists(h, username), q).toBe(false);
      const me = await h.request({ method: "GET", url: `/api/auth/me?${q}`, cookie });
      expectErrorBody(me, 400, "invalid_request");
    }
  });

  it.each([
    ["role", '"superadmin"'],
    ["emailVerified", "true"],
    ["blocked", "false"],
    ["id", '"00000000-0000-4000-8000-000000000000"'],
    ["isAdmin", "true"],
    ["passwordHash", '"$argon2id$v=19$m=19456,t=2,p=1$x$y"'],
    ["createdAt", "0"],
  ])("mass assignment: register with an extra %s field is 400 invalid_request naming it, and creates nobody", async (field, value) => {
    const username = uname("bodymass");
    const res = await postRaw(h, REGISTER, `{"username":"${username}","password":"${GOOD_PASSWORD}","${field}":${value}}`);
    expectErrorBody(res, 400, "invalid_request");
    expect(res.json().fields).toContain(field);
    expect(await userExists(h, username)).toBe(false);
  });

  it.each([
    ["username as an array", { username: ["a"], password: GOOD_PASSWORD }],
    ["username as a Mongo operator", { username: { $ne: null }, password: GOOD_PASSWORD }],
    ["password as a boolean", { username: "bodytypeconf", password: true }],
    ["password as a number", { username: "bodytypeconf", password: 123456789012 }],
    ["password as null", { username: "bodytypeconf", password: null }],
    ["remember as a string", { username: "bodytypeconf", password: GOOD_PASSWORD, remember: "true" }],
  ])("type confusion on login: %s is 400", async (_name, body) => {
    const res = await h.request({ method: "POST", url: LOGIN, json: body });
    expectErrorBody(res, 400, "invalid_request");
  });

  it("type confusion on register: array, object and boolean fields are 400 and create nobody", async () => {
    const before = await countUsers(h);
    for (const body of [{ username: ["bodyarr"], password: GOOD_PASSWORD }, { username: { $gt: "" }, password: GOOD_PASSWORD }, { username: "bodybool", password: true }]) {
      expectErrorBody(await h.request({ method: "POST", url: REGISTER, json: body }), 400, "invalid_request");
    }
    expect(await countUsers(h)).toBe(before);
  });

  it("HTTP parameter pollution: ?limit=1&limit=2 on /api/account/sessions is 400", async () => {
    expect((await h.request({ method: "GET", url: "/api/account/sessions?limit=1", cookie })).statusCode).toBe(200);
    const res = await h.request({ method: "GET", url: "/api/account/sessions?limit=1&limit=2", cookie });
    expectErrorBody(res, 400, "invalid_request");
    const unknown = await h.request({ method: "GET", url: "/api/account/sessions?role=admin", cookie });
    expectErrorBody(unknown, 400, "invalid_request");
  });

  it("non-object bodies: a bare array, string or number is 400 on register", async () => {
    for (const payload of ["[]", '"admin"', "42", "null"]) {
      const res = await postRaw(h, REGISTER, payload);
      expect(res.statusCode, payload).toBe(400);
      expectErrorBody(res, 400, res.json().code);
    }
  });
});
