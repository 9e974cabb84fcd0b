import type { LightMyRequestResponse } from "fastify";
import type { Clock } from "../../../src/core/clock.js";
import type { ProviderSettings } from "../../../src/core/oauth/identity-provider.js";
import type { Backend } from "../backends.js";
import { startHarness, type Harness, type HarnessOptions } from "../harness.js";
import { providerSettings } from "./provider-settings.js";
import { startTestIdp, type TestIdp, type TestIdpUser } from "./test-idp.js";

/** Gatehouse (the harness) with the real local OpenID Connect provider configured as `test-idp`. */
export interface ProviderStack {
  h: Harness;
  idp: TestIdp;
  provider: ProviderSettings;
  /** `GET /api/auth/oauth/<id>/start` (with `?return=` when given) in a browser holding `cookie`; the answer and the transaction cookie it set. */
  start(options?: { returnTo?: string; cookie?: string; provider?: string }): Promise<{ res: LightMyRequestResponse; location: URL; oauthCookie: string | null }>;
  /** The IdP's redirect back for `login` (after its login form), as a path + query to give Gatehouse. */
  authorize(location: URL, login: string, password: string, options?: { fresh?: boolean }): Promise<string>;
  /** `GET` of a callback path in a browser holding `cookie`. */
  callback(path: string, cookie?: string): Promise<LightMyRequestResponse>;
  /** start → the IdP's login form → callback, in one browser; the callback's answer, and the browser's cookies after it. */
  signIn(login: string, password: string, options?: { returnTo?: string; cookie?: string }): Promise<{ res: LightMyRequestResponse; cookie: string }>;
  close(): Promise<void>;
}

/** `name=value` pairs of a response's set cookies (emptied ones dropped), merged over a Cookie header. */
export function mergeCookies(cookie: string | undefined, res: LightMyRequestResponse): string {
  const jar = new Map<string, string>();
  for (const part of (cookie ?? "").split(/;\s*/)) {
    const i = part.indexOf("=");
    if (i > 0) jar.set(part.slice(0, i), part.slice(i + 1));
  }
  for (const c of res.cookies) {
    if (c.value === "" || (c.maxAge !== undefined && c.maxAge <= 0) || (c.expires !== undefined && new Date(c.expires).getTime() < Date.now())) jar.delete(c.name);
    else jar.set(c.name, c.value);
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

/**
 * Starts the test IdP and a harness whose provider `test-idp` points at it
 * (its CA trusted, loopback allowed); `provider` overrides settings (auto_link,
 * second_factor, roles…), `env` the harness's (REGISTRATION…).
 */
export async function startProviderStack(
  backend: Backend["name"],
  options: { env?: Record<string, string>; clock?: Clock; users?: TestIdpUser[]; provider?: Partial<ProviderSettings>; harness?: HarnessOptions } = {},
): Promise<ProviderStack> {
  const idp = await startTestIdp({ users: options.users ?? [] });
  const provider = providerSettings({ issuer: idp.issuer, clientId: "gatehouse", clientSecret: "test-client-secret-0123456789", caFile: idp.caFile, ...options.provider });
  let h: Harness;
  try {
    h = await startHarness(backend, options.env ?? {}, options.clock, { ...options.harness, providers: [provider] });
  } catch (err) {
    await idp.close();
    throw err;
  }
  await idp.registerClient({ client_id: provider.clientId, client_secret: provider.clientSecret, redirect_uris: [`${h.publicUrl}/api/auth/oauth/${provider.id}/callback`] });

  const stack: ProviderStack = {
    h,
    idp,
    provider,
    async start({ returnTo, cookie, provider: id } = {}) {
      const query = returnTo === undefined ? "" : `?return=${encodeURIComponent(returnTo)}`;
      const res = await h.request({ method: "GET", url: `/api/auth/oauth/${id ?? provider.id}/start${query}`, ...(cookie ? { cookie } : {}) });
      const set = res.cookies.find((c) => c.name.endsWith("gatehouse_oauth"));
      return { res, location: new URL(String(res.headers.location ?? "http://invalid/")), oauthCookie: set ? `${set.name}=${set.value}` : null };
    },
    async authorize(location, login, password, opts) {
      const back = await idp.authorize(location, login, password, opts);
      return `${back.pathname}${back.search}`;
    },
    callback: (path, cookie) => h.request({ method: "GET", url: path, ...(cookie ? { cookie } : {}) }),
    async signIn(login, password, { returnTo, cookie } = {}) {
      const started = await stack.start({ ...(returnTo !== undefined ? { returnTo } : {}), ...(cookie ? { cookie } : {}) });
      if (started.res.statusCode !== 303) throw new Error(`start answered ${started.res.statusCode}: ${started.res.body.slice(0, 200)}`);
      const browser = mergeCookies(cookie, started.res);
      const path = await stack.authorize(started.location, login, password);
      const res = await stack.callback(path, browser);
      return { res, cookie: mergeCookies(browser, res) };
    },
    async close() {
      await h.close();
      await idp.close();
    },
  };
  return stack;
}
