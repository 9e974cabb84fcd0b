import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProviderStack, type ProviderStack } from "../helpers/oauth/provider-stack.js";

describe("provider sign-in smoke", () => {
  let s: ProviderStack;
  beforeAll(async () => {
    s = await startProviderStack("sqlite", { users: [{ sub: "alice-sub", login: "alice", password: "pw-alice", email: "alice@example.com", email_verified: true, preferred_username: "alice" }] });
  });
  afterAll(async () => s?.close());

  it("signs in and creates an account", async () => {
    const { res, cookie } = await s.signIn("alice", "pw-alice", { returnTo: "/account" });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(303);
    const me = await s.h.request({ method: "GET", url: "/api/auth/me", cookie });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.username).toBe("alice");
  });
});
