import { describe, expect, it } from "vitest";
import { defaultSessionLifetimes } from "../../src/core/sessions/session.js";
import { settingsFromLifetimes } from "../../src/core/settings/settings.js";
import { isValidSettingValue, settingsFromStored, settingsProblems } from "../../src/core/settings/settings-validation.js";

const defaults = settingsFromLifetimes(defaultSessionLifetimes, "closed");

describe("one settings validator (PATCH /api/admin/settings, restore, every read)", () => {
  it("accepts the defaults and refuses wrong types, bounds, values and unknown keys", () => {
    expect(settingsProblems(defaults as unknown as Record<string, unknown>)).toEqual([]);
    expect(settingsProblems({ sessionAbsoluteMinutes: "forever" })).toEqual(["sessionAbsoluteMinutes"]);
    expect(settingsProblems({ sessionAbsoluteMinutes: 999_999_999 })).toEqual(["sessionAbsoluteMinutes"]);
    expect(settingsProblems({ sessionIdleMinutes: 1.5 })).toEqual(["sessionIdleMinutes"]);
    expect(settingsProblems({ registration: "everyone", emailVerificationRequired: "yes" })).toEqual(["registration", "emailVerificationRequired"]);
    expect(settingsProblems({ loginMethods: [] })).toEqual(["loginMethods"]);
    expect(settingsProblems({ loginMethods: ["password", "password"] })).toEqual(["loginMethods"]);
    expect(settingsProblems({ anything: 1 })).toEqual(["anything"]);
    expect(isValidSettingValue("registrationEnabled", true)).toBe(true);
  });

  it("checks lifetimes against each other when both are present", () => {
    expect(settingsProblems({ sessionIdleMinutes: 600, sessionAbsoluteMinutes: 60 })).toEqual(["sessionIdleMinutes"]);
    expect(settingsProblems({ sessionRememberDays: 1, sessionAbsoluteMinutes: 2000 })).toEqual(["sessionRememberDays"]);
    expect(settingsProblems({ sessionIdleMinutes: 600 })).toEqual([]);
  });

  it("reads stored values, and puts the default back for each invalid one", () => {
    const { settings, fellBack } = settingsFromStored(
      { sessionAbsoluteMinutes: '"forever"', sessionIdleMinutes: "20", registration: "not json", loginMethods: '["password"]' },
      defaults,
    );
    expect(settings).toEqual({ ...defaults, sessionIdleMinutes: 20 });
    expect(fellBack.sort()).toEqual(["registration", "sessionAbsoluteMinutes"]);
  });

  it("valid one by one but contradictory: the lifetimes return to their defaults", () => {
    const { settings, fellBack } = settingsFromStored({ sessionIdleMinutes: "1440", sessionAbsoluteMinutes: "60" }, defaults);
    expect(settings).toEqual(defaults);
    expect(fellBack).toEqual(["sessionIdleMinutes"]);
  });

  it("reads the former boolean registrationEnabled unless the mode was stored", () => {
    expect(settingsFromStored({ registrationEnabled: "true" }, defaults).settings.registration).toBe("open");
    expect(settingsFromStored({ registrationEnabled: "true", registration: '"invite"' }, defaults).settings.registration).toBe("invite");
    expect(settingsFromStored({ registrationEnabled: '"x"' }, defaults)).toEqual({ settings: defaults, fellBack: ["registrationEnabled"] });
  });
});
