import { describe, expect, it } from "vitest";
import { createManualClock } from "../../src/core/clock.js";
import { createFactorSummaries } from "../../src/core/mfa/factor-summary.js";

function fixture() {
  const clock = createManualClock();
  const state = { totp: false, passkeys: 0, lookups: 0 };
  const summaries = createFactorSummaries({
    totpEnrolled: async () => (state.lookups++, state.totp),
    passkeyCount: async () => state.passkeys,
    clock,
    ttlMs: 30_000,
    maxEntries: 2,
  });
  return { clock, state, summaries };
}

describe("the second factors /api/auth/me shows, kept briefly", () => {
  it("asks the stores once per 30 s, then again", async () => {
    const f = fixture();
    expect(await f.summaries.summaryOf("u1")).toEqual({ totp: false, passkeys: 0 });
    f.state.totp = true;
    expect(await f.summaries.summaryOf("u1")).toEqual({ totp: false, passkeys: 0 });
    expect(f.state.lookups).toBe(1);
    f.clock.advance(30_001);
    expect(await f.summaries.summaryOf("u1")).toEqual({ totp: true, passkeys: 0 });
  });

  it("an audited change of the user's factors (or a reset) is seen at once; other events and other users keep theirs", async () => {
    const f = fixture();
    await f.summaries.summaryOf("u1");
    f.state.passkeys = 2;
    f.summaries.observe({ type: "login_success", userId: "u1" });
    f.summaries.observe({ type: "webauthn_registered", userId: "u2" });
    expect((await f.summaries.summaryOf("u1")).passkeys).toBe(0);
    for (const type of ["webauthn_registered", "webauthn_removed", "mfa_enabled", "mfa_disabled", "mfa_reset"] as const) {
      f.state.passkeys++;
      f.summaries.observe({ type, userId: "u1" });
      expect((await f.summaries.summaryOf("u1")).passkeys).toBe(f.state.passkeys);
    }
  });

  it("keeps at most maxEntries users (the oldest goes first)", async () => {
    const f = fixture();
    await f.summaries.summaryOf("u1");
    await f.summaries.summaryOf("u2");
    await f.summaries.summaryOf("u3");
    const before = f.state.lookups;
    await f.summaries.summaryOf("u3");
    await f.summaries.summaryOf("u1");
    expect(f.state.lookups).toBe(before + 1);
  });
});
