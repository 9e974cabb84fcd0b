import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createStrippedHeaderFilter } from "../../src/http/proxy/stripped-headers.js";

const load = (value: string) => loadConfig({ GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gh-strip-")), PROXY_STRIP_HEADERS: value });

describe("PROXY_STRIP_HEADERS", () => {
  it("takes names and families (trailing *)", () => {
    expect(load(" X-Corp-User , X-Corp-Auth-* ").proxy.stripHeaders).toEqual(["X-Corp-User", "X-Corp-Auth-*"]);
    const strip = createStrippedHeaderFilter(["X-Corp-User", "X-Corp-Auth-*"]);
    for (const name of ["x-corp-user", "X_CORP_USER", "x-corp-auth-role", "X_Corp_Auth_Anything"]) expect(strip(name), name).toBe(true);
    for (const name of ["x-corp-users-list", "x-corp", "authorization", "cookie", "accept", "x-app-trace"]) expect(strip(name), name).toBe(false);
  });

  it.each(["Host", "content_length", "Transfer-Encoding", "X Bad", "X-(", "*"])("refuses %j at start", (value) => {
    expect(() => load(value)).toThrow(/PROXY_STRIP_HEADERS/);
  });
});
