import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { VAULT_PAGES_RULES_YAML } from "../helpers/vault-rules.js";

const SECRET = "sk-page-operator-0123456789abcdef";
const OWN = "sk-page-own-key-fedcba9876543210";

describe.each(backendNames())("vault pages: the dashboard's secrets page and the account page's \"Your keys\" (%s)", (backend) => {
  let h: Harness;
  let dir: string;
  const pages: string[] = [];

  async function browser(role: Role) {
    const acct = await h.account(role);
    const b = new WebClient(h);
    const [k, v] = acct.cookie.split("=") as [string, string];
    b.jar.set(k, v);
    return { b, ...acct };
  }
  const keep = <T extends { body: string }>(res: T): T => {
    pages.push(res.body);
    return res;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-vault-pages-"));
    writeFileSync(join(dir, "gatehouse.yml"), VAULT_PAGES_RULES_YAML);
    h = await startHarness(backend, { GATEHOUSE_CONFIG: join(dir, "gatehouse.yml") });
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a superadmin sets and deletes a secret on /admin/secrets; the page shows the prefix, never the value; an admin gets 403", async () => {
    const { b: admin } = await browser("admin");
    expect((await admin.get("/admin/secrets")).statusCode).toBe(403);
    const { b } = await browser("superadmin");
    const page = keep(await b.get("/admin/secrets"));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("No secrets yet.");
    expect(page.body).toContain("<code>anthropic</code>");
    const bad = keep(await b.post("/admin/secrets", { name: "Bad Name", value: SECRET }));
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("Use 1 to 64 lower-case letters");
    const saved = await b.post("/admin/secrets", { name: "openai", value: SECRET });
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/admin/secrets?notice=secret_saved");
    const listed = keep(await b.get("/admin/secrets?notice=secret_saved"));
    expect(listed.body).toContain("<code>openai</code>");
    expect(listed.body).toContain("<code>sk-p…</code>");
    expect(await h.gh.vault.render([{ header: "a", template: { parts: [{ secret: "openai" }] } }], null)).toEqual(new Map([["a", SECRET]]));
    const deleted = await b.post("/admin/secrets/openai/delete", {});
    expect(deleted.statusCode).toBe(303);
    expect((await h.gh.vault.list()).length).toBe(0);
  });

  it("a stale superadmin session must give its password to save (sudo); a wrong one is refused", async () => {
    const { b } = await browser("superadmin");
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      await b.get("/admin");
    }
    keep(await b.get("/admin/secrets"));
    expect(pages.at(-1)).toContain('id="f-sudo-password"');
    const refused = keep(await b.post("/admin/secrets", { name: "openai", value: SECRET }));
    expect(refused.statusCode).toBe(403);
    const wrong = keep(await b.post("/admin/secrets", { name: "openai", value: SECRET, password: "not-the-password-1" }));
    expect(wrong.statusCode).toBe(403);
    expect((await b.post("/admin/secrets", { name: "openai", value: SECRET, password: GOOD_PASSWORD })).statusCode).toBe(303);
    expect((await h.gh.vault.show("openai")).updatedBy).not.toBeNull();
  });

  it("a user stores and deletes their own key in \"Your keys\"; the page shows it is set, never the value", async () => {
    const { b, id } = await browser("user");
    const page = keep(await b.get("/account"));
    expect(page.body).toContain("Your keys");
    expect(page.body).toContain('<option value="anthropic">anthropic</option>');
    expect(page.body).not.toContain('<option value="openai">');
    const refused = keep(await b.post("/account/keys", { name: "openai", value: OWN }));
    expect(refused.statusCode).toBe(400);
    const saved = await b.post("/account/keys", { name: "anthropic", value: OWN });
    expect(saved.statusCode).toBe(303);
    const after = keep(await b.get("/account?notice=key_saved"));
    expect(after.body).toContain("<code>sk-p…</code>");
    const rendered = await h.gh.vault.render([{ header: "k", template: { parts: [{ userSecret: "anthropic" }] } }], id);
    expect(rendered.get("k")).toBe(OWN);
    expect((await b.post("/account/keys/anthropic/delete", {})).statusCode).toBe(303);
    expect((await h.gh.vault.listOwn(id)).find((k) => k.name === "anthropic")?.stored).toBe(false);
  });

  it("no page ever held a value", () => {
    const all = pages.join("\n");
    for (const value of [SECRET, OWN]) expect(all).not.toContain(value.slice(4));
  });
});
