import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";
import type { Account, Adapter, AdapterPayload, ClientMetadata, Interaction, KoaContextWithOIDC, UnknownObject } from "oidc-provider";
import { Agent, fetch } from "undici";
import { testCertificate } from "./tls-cert.js";

/** A user of the test identity provider: `login`/`password` sign in, the rest become claims. */
export interface TestIdpUser {
  sub: string;
  login: string;
  password: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  groups?: string[];
}

/** A running local OpenID Connect provider (oidc-provider over HTTPS on 127.0.0.1) for the tests. */
export interface TestIdp {
  /** "https://127.0.0.1:<port>" (no trailing slash). */
  issuer: string;
  /** Path of the PEM certificate the IdP serves (self-signed; trust it through a provider `ca_file`). */
  caFile: string;
  /** The PEM text of that certificate. */
  ca: string;
  addUser(user: TestIdpUser): void;
  /** Registers (or replaces) a confidential client; callable after start. */
  registerClient(client: { client_id: string; client_secret: string; redirect_uris: string[] }): Promise<void>;
  /**
   * API-level tests: follows `authorizationUrl` through the IdP's login form as login/password (and the
   * automatic consent) and returns the URL the IdP finally redirects the browser to (the relying party's
   * callback with code/state/iss, or error=...); that last redirect is not followed. Uses its own cookie
   * jar; a second call with `fresh: false` reuses the IdP session (SSO). Rejects with "Wrong login or
   * password" when the IdP re-shows its form, and with the IdP's error when it shows an error page.
   */
  authorize(authorizationUrl: string | URL, login: string, password: string, options?: { fresh?: boolean }): Promise<URL>;
  /**
   * Every authorization request's query and every token request's form body, in order; `issued`: the
   * access and ID tokens of every successful token response (to show they never leave Gatehouse).
   */
  requests: { authorization: URLSearchParams[]; token: URLSearchParams[]; issued: IssuedTokens[] };
  close(): Promise<void>;
}

/** The tokens one successful token response carried. */
export interface IssuedTokens {
  access_token: string;
  id_token: string;
}

const TITLE = "Test IdP sign-in";
const WRONG = "Wrong login or password";

/** Starts a local OpenID Connect provider: authorization code flow, PKCE S256 only, consent granted automatically. */
export async function startTestIdp(options: { users?: TestIdpUser[] } = {}): Promise<TestIdp> {
  const certificate = testCertificate("test-idp");
  const usersByLogin = new Map<string, TestIdpUser>();
  const usersBySub = new Map<string, TestIdpUser>();
  const addUser = (user: TestIdpUser): void => {
    usersByLogin.set(user.login, user);
    usersBySub.set(user.sub, user);
  };
  for (const user of options.users ?? []) addUser(user);

  const requests: TestIdp["requests"] = { authorization: [], token: [], issued: [] };
  const storage = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
  const MapAdapter = mapAdapter(storage);

  const server = createServer({ cert: certificate.cert, key: certificate.key });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: "RS256", use: "sig" };

  const provider = new Provider(issuer, {
    adapter: MapAdapter,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    clients: [],
    clientDefaults: { grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic", id_token_signed_response_alg: "RS256" },
    // Both are accepted whatever the client registered (oidc-provider treats basic and post alike).
    clientAuthMethods: ["client_secret_basic", "client_secret_post"],
    responseTypes: ["code"],
    pkce: { methods: ["S256"], required: () => true },
    scopes: ["openid"],
    claims: {
      acr: null,
      sid: null,
      auth_time: null,
      iss: null,
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
      groups: ["groups"],
    },
    // Scope claims go into the ID token too, so the relying party needs no userinfo call.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 86_400, Grant: 86_400 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx, sub) => {
      const user = usersBySub.get(sub);
      return user ? account(user) : undefined;
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      const lines = Object.entries(out).map(([k, v]) => `<p><strong>${html(k)}</strong>: ${html(String(v))}</p>`);
      ctx.body = `<!doctype html><html><head><meta charset="utf-8"><title>Test IdP error</title></head><body><h1>Test IdP error</h1>${lines.join("")}</body></html>`;
    },
  });

  // Records the authorization requests (query or form body) and the token requests' form bodies.
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    const authorization = ctx.path === "/auth";
    if (authorization && ctx.method === "GET") requests.authorization.push(new URLSearchParams(ctx.querystring));
    await next();
    if (authorization && ctx.method === "POST") requests.authorization.push(formParams(ctx.oidc?.body));
    if (ctx.path === "/token" && ctx.method === "POST") {
      requests.token.push(formParams(ctx.oidc?.body));
      const answer = ctx.body as { access_token?: unknown; id_token?: unknown } | undefined;
      if (ctx.status === 200 && typeof answer?.access_token === "string" && typeof answer.id_token === "string") {
        requests.issued.push({ access_token: answer.access_token, id_token: answer.id_token });
      }
    }
  });

  const callback = provider.callback();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", issuer).pathname;
    if (path === "/favicon.ico") {
      // Keeps a browser's console free of oidc-provider's 404 for it.
      res.writeHead(204).end();
      return;
    }
    if (!path.startsWith("/interaction/")) {
      callback(req, res);
      return;
    }
    interaction(req, res, path).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendHtml(res, 400, page("Test IdP error", `<p>${html(err instanceof Error ? err.message : String(err))}</p>`));
    });
  });

  /** GET /interaction/:uid shows the login form (or grants consent); POST /interaction/:uid/login signs in. */
  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [, , uid, action] = path.split("/");
    const details = await provider.interactionDetails(req, res);
    if (uid !== details.uid) throw new Error("interaction mismatch");
    if (req.method === "GET" && action === undefined) {
      if (details.prompt.name === "login") return sendHtml(res, 200, loginPage(details.uid));
      if (details.prompt.name === "consent") return grantConsent(req, res, details);
      throw new Error(`unsupported prompt ${details.prompt.name}`);
    }
    if (req.method === "POST" && action === "login") {
      if (details.prompt.name !== "login") throw new Error("no login expected");
      const form = new URLSearchParams(await readBody(req));
      const user = usersByLogin.get(form.get("login") ?? "");
      if (!user || user.password !== form.get("password")) return sendHtml(res, 200, loginPage(details.uid, WRONG, form.get("login") ?? ""));
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    }
    sendHtml(res, 404, page("Not found", "<p>Not found</p>"));
  }

  /** Consent never blocks: grants every missing scope and claim and resumes. */
  async function grantConsent(req: IncomingMessage, res: ServerResponse, details: Interaction): Promise<void> {
    const accountId = details.session?.accountId;
    if (!accountId) throw new Error("consent without a session");
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    const grant = existing ?? new provider.Grant({ accountId, clientId: String(details.params.client_id) });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(" "));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: existing ? {} : { grantId } }, { mergeWithLastSubmission: true });
  }

  const agent = new Agent({ connect: { ca: [certificate.cert] } });
  let lastJar = new CookieJar();

  async function authorize(authorizationUrl: string | URL, login: string, password: string, opts: { fresh?: boolean } = {}): Promise<URL> {
    const jar = opts.fresh === false ? lastJar : new CookieJar();
    lastJar = jar;
    let url = new URL(authorizationUrl);
    let body: URLSearchParams | undefined;
    let submitted = false;
    for (let hop = 0; hop < 20; hop++) {
      if (url.origin !== issuer) return url;
      const headers: Record<string, string> = {};
      const cookie = jar.header(url);
      if (cookie) headers.cookie = cookie;
      const res = await fetch(url, { method: body ? "POST" : "GET", body, headers, redirect: "manual", dispatcher: agent });
      jar.store(url, res.headers.getSetCookie());
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        url = new URL(location, url);
        body = undefined;
        continue;
      }
      const text = await res.text();
      if (res.status === 200 && text.includes(`<title>${TITLE}</title>`)) {
        if (submitted) throw new Error(text.includes(WRONG) ? WRONG : "the test IdP showed its sign-in form again");
        const action = /<form method="post" action="([^"]+)"/.exec(text)?.[1];
        if (!action) throw new Error("the test IdP sign-in form has no action");
        url = new URL(action.replaceAll("&amp;", "&"), url);
        body = new URLSearchParams({ login, password });
        submitted = true;
        continue;
      }
      throw new Error(`the test IdP answered ${res.status} at ${url.pathname}: ${text.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim().slice(0, 500)}`);
    }
    throw new Error("the test IdP redirected too many times");
  }

  return {
    issuer,
    caFile: certificate.certFile,
    ca: certificate.cert,
    addUser,
    async registerClient(client) {
      const metadata: ClientMetadata = { ...client, grant_types: ["authorization_code"], response_types: ["code"], token_endpoint_auth_method: "client_secret_basic" };
      await provider.Client.validate(metadata);
      storage.set(`Client:${client.client_id}`, { payload: { ...metadata }, expiresAt: undefined });
    },
    authorize,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}

/** The claims of a user; oidc-provider keeps those the granted scopes allow. */
function account(user: TestIdpUser): Account {
  return {
    accountId: user.sub,
    claims: () => {
      const claims: UnknownObject = { sub: user.sub };
      for (const key of ["email", "email_verified", "name", "preferred_username", "groups"] as const) {
        if (user[key] !== undefined) claims[key] = user[key];
      }
      return claims;
    },
  };
}

/** A per-provider in-memory adapter (oidc-provider's own one is process-wide and warns). */
function mapAdapter(storage: Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>): new (name: string) => Adapter {
  const now = (): number => Math.floor(Date.now() / 1000);
  const get = (key: string): AdapterPayload | undefined => {
    const entry = storage.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      storage.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return class MapAdapter implements Adapter {
    constructor(private readonly name: string) {}

    private key(id: string): string {
      return `${this.name}:${id}`;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
      storage.set(this.key(id), { payload, expiresAt });
      if (this.name === "Session" && payload.uid) storage.set(`sessionUid:${payload.uid}`, { payload: { id }, expiresAt });
      if (payload.userCode) storage.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt });
      if (payload.grantId) {
        const grant = get(`grant:${payload.grantId}`);
        const keys = Array.isArray(grant?.keys) ? (grant.keys as string[]) : [];
        storage.set(`grant:${payload.grantId}`, { payload: { keys: [...keys, this.key(id)] }, expiresAt: undefined });
      }
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return get(this.key(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const ref = get(`sessionUid:${uid}`);
      return typeof ref?.id === "string" ? this.find(ref.id) : undefined;
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const ref = get(`userCode:${userCode}`);
      return typeof ref?.id === "string" ? this.find(ref.id) : undefined;
    }

    async consume(id: string): Promise<void> {
      const payload = get(this.key(id));
      if (payload) payload.consumed = now();
    }

    async destroy(id: string): Promise<void> {
      storage.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      const grant = get(`grant:${grantId}`);
      for (const key of Array.isArray(grant?.keys) ? (grant.keys as string[]) : []) storage.delete(key);
      storage.delete(`grant:${grantId}`);
    }
  };
}

/** A cookie jar for one host that honours Path and expiry (enough for oidc-provider's cookies). */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string; expiresAt: number | undefined }>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, "") || "/";
      let expiresAt: number | undefined;
      for (const attribute of attributes) {
        const [key = "", val = ""] = attribute.split("=", 2);
        const lower = key.toLowerCase();
        if (lower === "path" && val.startsWith("/")) path = val;
        else if (lower === "max-age") expiresAt = Date.now() + Number(val) * 1000;
        else if (lower === "expires" && expiresAt === undefined) expiresAt = Date.parse(val);
      }
      const key = `${name};${path}`;
      if (expiresAt !== undefined && expiresAt <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, expiresAt });
    }
  }

  header(url: URL): string {
    const now = Date.now();
    const matching = [...this.cookies.values()].filter(
      (c) => (c.expiresAt === undefined || c.expiresAt > now) && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`)),
    );
    // Longer paths first, as browsers send them.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join("; ");
  }
}

function formParams(body: Record<string, string | string[] | undefined> | undefined): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(body ?? {})) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) params.append(key, v);
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error("form too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function sendHtml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(body);
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, content: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${html(title)}</title></head><body>${content}</body></html>`;
}

function loginPage(uid: string, error?: string, login = ""): string {
  return page(
    TITLE,
    `<h1>${TITLE}</h1>` +
      (error ? `<p role="alert">${html(error)}</p>` : "") +
      `<form method="post" action="/interaction/${html(uid)}/login">` +
      `<label for="login">Login</label> <input id="login" name="login" autocomplete="username" value="${html(login)}" autofocus> ` +
      `<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"> ` +
      `<button type="submit">Sign in</button></form>`,
  );
}

/** RP-initiated logout pages without the default ones' web fonts. */
function logoutSource(ctx: KoaContextWithOIDC, form: string): void {
  ctx.type = "html";
  ctx.body = page("Test IdP sign-out", `${form}<button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>`);
}

function postLogoutSuccessSource(ctx: KoaContextWithOIDC): void {
  ctx.type = "html";
  ctx.body = page("Test IdP signed out", "<p>Signed out</p>");
}
