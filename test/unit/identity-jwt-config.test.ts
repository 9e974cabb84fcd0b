import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { identityAudience } from "../../src/core/identity/identity-audience.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-jwt-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const load = (env: Record<string, string>) => loadConfig({ NODE_ENV: "test", GATEHOUSE_DATA_DIR: dir, ...env });
function problem(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("IDENTITY_JWT* settings", () => {
  it("defaults: off, Remote-JWT, 60 s, ES256", () => {
    expect(load({}).identityJwt).toEqual({ enabled: false, header: "Remote-JWT", ttlMs: 60_000, alg: "ES256" });
    expect(load({ IDENTITY_JWT: "on", IDENTITY_JWT_HEADER: "X-Identity-Token", IDENTITY_JWT_TTL: "10m", IDENTITY_JWT_ALG: "EdDSA" }).identityJwt).toEqual({ enabled: true, header: "X-Identity-Token", ttlMs: 600_000, alg: "EdDSA" });
  });

  it("the lifetime is 10 s to 10 min", () => {
    expect(load({ IDENTITY_JWT_TTL: "10s" }).identityJwt.ttlMs).toBe(10_000);
    for (const ttl of ["9s", "11m", "1d"]) expect(problem({ IDENTITY_JWT_TTL: ttl })).toContain("IDENTITY_JWT_TTL must be between 10s and 10m");
  });

  it("the header is a valid name, not an identity, hop-by-hop or request header; the algorithm ES256 or EdDSA", () => {
    for (const name of ["Remote-User", "remote-groups", "Remote_Email", "Connection", "Transfer-Encoding", "Host", "Cookie", "Authorization"]) {
      expect(problem({ IDENTITY_JWT_HEADER: name })).toContain("IDENTITY_JWT_HEADER cannot be");
    }
    for (const name of ["Bad Header", "X-JWT\r\nX: y", "a".repeat(65), "X:Y"]) expect(problem({ IDENTITY_JWT_HEADER: name })).toContain("IDENTITY_JWT_HEADER must be a header name");
    for (const alg of ["RS256", "HS256", "none", "es256"]) expect(problem({ IDENTITY_JWT_ALG: alg })).toContain("IDENTITY_JWT_ALG must be ES256 or EdDSA");
  });
});

describe("identityAudience: the app's host as the request named it", () => {
  it("lower-case, without a trailing dot or the scheme's default port; null for a malformed host", () => {
    expect(identityAudience("App.Example.COM", "https")).toBe("app.example.com");
    expect(identityAudience("app.example.com.:443", "https")).toBe("app.example.com");
    expect(identityAudience("app.example.com:8443", "https")).toBe("app.example.com:8443");
    expect(identityAudience("app.example.com:80", "http")).toBe("app.example.com");
    expect(identityAudience("app.example.com:443", "http")).toBe("app.example.com:443");
    expect(identityAudience("[::1]:8080", "http")).toBe("[::1]:8080");
    for (const bad of ["", "a b", "app.test:99999", "app..test"]) expect(identityAudience(bad, "https")).toBeNull();
  });
});
