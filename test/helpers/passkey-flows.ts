import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { GOOD_PASSWORD, type Harness } from "./harness.js";
import { SoftAuthenticator, type CeremonyOptions, type CeremonyTweaks } from "./soft-authenticator.js";

/** `name=value` of a cookie a response set, or null. */
export function cookieFrom(res: LightMyRequestResponse, name: string): string | null {
  const c = res.cookies.find((x) => x.name === name);
  return c && c.value !== "" ? `${c.name}=${c.value}` : null;
}

/** The passkey ceremonies of the API, driven with a software authenticator. */
export function passkeyFlows(h: Harness) {
  const url = new URL(h.publicUrl);
  const authenticator = (options: { counter?: number } = {}) => new SoftAuthenticator(url.origin, url.hostname, options);

  async function registrationOptions(cookie: string): Promise<CeremonyOptions> {
    const res = await h.request({ method: "POST", url: "/api/account/mfa/webauthn/options", cookie, json: {} });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().options as CeremonyOptions;
  }

  const registerResponse = (cookie: string, response: unknown, name?: string) =>
    h.request({ method: "POST", url: "/api/account/mfa/webauthn/register", cookie, json: { response, ...(name !== undefined ? { name } : {}) } });

  /** Registers a new software passkey on the account of `cookie`. */
  async function enrol(cookie: string, options: { counter?: number; name?: string; tweaks?: CeremonyTweaks } = {}) {
    const auth = authenticator(options);
    const res = await registerResponse(cookie, auth.register(await registrationOptions(cookie), options.tweaks), options.name ?? "Test key");
    expect(res.statusCode, res.body).toBe(201);
    return { auth, passkey: res.json().passkey as { id: string; name: string } };
  }

  /** A password login of `name` that answers mfa_required: its pending cookie. */
  async function pendingLogin(name: string): Promise<string> {
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });
    expect(res.json()).toMatchObject({ mfa_required: true });
    return cookieFrom(res, "gatehouse_pending")!;
  }

  async function secondFactorOptions(pending: string): Promise<CeremonyOptions & { allowCredentials: { id: string }[] }> {
    const res = await h.request({ method: "POST", url: "/api/auth/webauthn/options", cookie: pending, json: {} });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().options as CeremonyOptions & { allowCredentials: { id: string }[] };
  }

  const verifySecondFactor = (pending: string, response: unknown) => h.request({ method: "POST", url: "/api/auth/mfa/verify", cookie: pending, json: { method: "webauthn", response } });

  async function passwordlessOptions(): Promise<{ options: CeremonyOptions & { allowCredentials?: unknown[]; userVerification?: string }; cookie: string; res: LightMyRequestResponse }> {
    const res = await h.request({ method: "POST", url: "/api/auth/webauthn/options", json: {} });
    expect(res.statusCode, res.body).toBe(200);
    return { options: res.json().options, cookie: cookieFrom(res, "gatehouse_webauthn")!, res };
  }

  const passwordless = (cookie: string | undefined, response: unknown) =>
    h.request({ method: "POST", url: "/api/auth/webauthn/verify", json: { response }, ...(cookie ? { cookie } : {}) });

  return { authenticator, registrationOptions, registerResponse, enrol, pendingLogin, secondFactorOptions, verifySecondFactor, passwordlessOptions, passwordless };
}
