import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";
import { checkEmailDomain, parseEmailDomains, parseRegistrationMode } from "../../src/core/registration/registration-mode.js";
import { isGatehouseError } from "../../src/core/errors.js";

const KEY = randomBytes(32).toString("hex");

describe("REGISTRATION and REGISTRATION_EMAIL_DOMAINS", () => {
  it("REGISTRATION defaults to closed, accepts closed, invite and open in any case, and refuses anything else", () => {
    expect(loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY }).registration).toEqual({ mode: "closed", emailDomains: [] });
    expect(parseRegistrationMode(" Open ")).toBe("open");
    expect(parseRegistrationMode("invite")).toBe("invite");
    expect(() => loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, REGISTRATION: "true" })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, REGISTRATION: "true" })).toThrow(/REGISTRATION must be one of closed, invite, open/);
  });

  it("REGISTRATION_EMAIL_DOMAINS is a lower-cased, de-duplicated list; a malformed entry is a configuration error", () => {
    expect(parseEmailDomains("Example.com, @example.org,,example.com")).toEqual(["example.com", "example.org"]);
    expect(loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, REGISTRATION_EMAIL_DOMAINS: "acme.test" }).registration.emailDomains).toEqual(["acme.test"]);
    for (const bad of ["localhost", "exa mple.com", "*.example.com", "example..com", "-x.com"]) {
      expect(() => loadConfig({ NODE_ENV: "test", SECRET_KEY: KEY, REGISTRATION_EMAIL_DOMAINS: bad }), bad).toThrow(/REGISTRATION_EMAIL_DOMAINS/);
    }
  });

  it("the allow-list matches the domain after the last @ exactly; no list allows anything", () => {
    const refused = (email: string | undefined) => {
      try {
        checkEmailDomain(email, ["example.com"]);
        return null;
      } catch (err) {
        return isGatehouseError(err) ? err.code : "other";
      }
    };
    expect(refused("a@example.com")).toBeNull();
    expect(refused("A@EXAMPLE.COM")).toBeNull();
    expect(refused(undefined)).toBe("email_domain_not_allowed");
    expect(refused("a@sub.example.com")).toBe("email_domain_not_allowed");
    expect(refused("a@example.com.evil.test")).toBe("email_domain_not_allowed");
    expect(refused("not-an-address")).toBe("invalid_request");
    expect(() => checkEmailDomain(undefined, [])).not.toThrow();
  });
});
