import Fastify from "fastify";
import { describe, expect, it } from "vitest";
import { ConfigError, gatehouse, GatehouseOptionsError } from "gatehouse/fastify";
import { normalizePrefix } from "../../src/library/fastify/plugin-options.js";

describe("gatehouse/fastify options", () => {
  it("accepts an empty prefix or path segments, and refuses anything else", () => {
    expect(normalizePrefix(undefined)).toBe("");
    expect(normalizePrefix("")).toBe("");
    expect(normalizePrefix("/")).toBe("");
    expect(normalizePrefix("/auth")).toBe("/auth");
    expect(normalizePrefix("/my-app/auth")).toBe("/my-app/auth");
    for (const bad of ["auth", "/auth/", "//evil.example", "/a b", "/auth?x=1", "/../x"]) {
      expect(() => normalizePrefix(bad), bad).toThrow(GatehouseOptionsError);
    }
  });

  it("stops the host's start with every configuration problem listed, and never echoes a secret", async () => {
    const app = Fastify();
    const secret = "short-secret-value";
    const error = await app.register(gatehouse, { env: { NODE_ENV: "production", SECRET_KEY: secret, PUBLIC_URL: "http://app.example", DATABASE_URL: "mysql://x" } }).ready().then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    expect(problems).toContain("SECRET_KEY");
    expect(problems).toContain("PUBLIC_URL");
    expect(problems).toContain("DATABASE_URL");
    expect((error as Error).message).not.toContain(secret);
    await app.close();
  });
});
