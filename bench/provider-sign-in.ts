// npx tsx bench/provider-sign-in.ts [--samples 200] [--out file]
// Provider sign-in against the real local OpenID Connect provider of the test
// suite (oidc-provider over HTTPS on loopback), next to a password login in
// the same Gatehouse (SQLite), measured in one run:
// - Gatehouse's part of a provider sign-in: `GET …/start` (round trip made
//   and stored, authorization URL) plus `GET …/callback` (round trip
//   consumed, code exchanged at the IdP's token endpoint over TLS, ID token
//   checked, account found, session issued); the IdP's own login step is not
//   counted (it is the IdP's time, with its SSO session after the first);
// - a password login (`POST /api/auth/login`, Argon2id);
// - idle RSS of `node dist/main.js` with one provider configured vs none
//   (openid-client and undici are loaded only with a provider).
// Requests go through Fastify's inject (no sockets) except the IdP's.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startProduction } from "./lib/servers.js";
import { startProviderStack, mergeCookies } from "../test/helpers/oauth/provider-stack.js";

const { values } = parseArgs({ options: { samples: { type: "string", default: "200" }, out: { type: "string" }, "no-idle": { type: "boolean", default: false } } });
const samples = Math.max(10, Number(values.samples));

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function signInTimes(): Promise<{ provider: number[]; callback: number[]; password: number[] }> {
  const stack = await startProviderStack("sqlite", { users: [{ sub: "bench-sub", login: "bench", password: "bench-pw", email: "bench@example.com", email_verified: true, preferred_username: "bench" }] });
  try {
    await stack.h.register("pwuser", undefined, "pwuser@example.com");
    const provider: number[] = [];
    const callback: number[] = [];
    const password: number[] = [];
    let idpFresh = true;
    for (let i = 0; i < samples + 10; i++) {
      // Provider sign-in: Gatehouse's two answers, timed; the IdP's login step between them is not.
      const t0 = now();
      const started = await stack.start({ returnTo: "/account" });
      const t1 = now();
      const back = await stack.authorize(started.location, "bench", "bench-pw", { fresh: idpFresh });
      idpFresh = false;
      const t2 = now();
      const res = await stack.callback(back, mergeCookies(undefined, started.res));
      const t3 = now();
      if (res.statusCode !== 303) throw new Error(`callback answered ${res.statusCode}`);
      // Password login, interleaved so both see the same machine state.
      const t4 = now();
      const login = await stack.h.request({ method: "POST", url: "/api/auth/login", json: { username: "pwuser", password: "tulip-orbit-lantern-42" } });
      const t5 = now();
      if (login.statusCode !== 200) throw new Error(`login answered ${login.statusCode}`);
      if (i >= 10) {
        provider.push(t1 - t0 + (t3 - t2));
        callback.push(t3 - t2);
        password.push(t5 - t4);
      }
    }
    return { provider, callback, password };
  } finally {
    await stack.close();
  }
}

async function idleRss(withProvider: boolean): Promise<number> {
  const env: Record<string, string> = { SECRET_KEY: randomBytes(32).toString("hex"), PUBLIC_URL: "http://127.0.0.1", GATEHOUSE_ALLOW_INSECURE_HTTP: "true" };
  // Discovery is lazy: an issuer nobody answers at is enough to load the provider's client.
  if (withProvider) Object.assign(env, { OAUTH_PROVIDER: "oidc", OAUTH_ISSUER: "https://127.0.0.1:9/", OAUTH_CLIENT_ID: "bench", OAUTH_CLIENT_SECRET: "bench-secret", OAUTH_PRIVATE_NETWORK: "true" });
  const prod = await startProduction(env);
  try {
    await new Promise((r) => setTimeout(r, 3000));
    return prod.rssMb();
  } finally {
    await prod.stop();
  }
}

const t = await signInTimes();
const lines = [
  `# Provider sign-in bench (${new Date().toISOString().slice(0, 10)}, ${samples} samples each, interleaved, one Gatehouse on SQLite)`,
  "",
  "| what | p50 | p99 | p50 ratio to password login |",
  "|---|---:|---:|---:|",
  `| password login (POST /api/auth/login, Argon2id) | ${ms(quantile(t.password, 0.5))} | ${ms(quantile(t.password, 0.99))} | 1.00 × |`,
  `| provider sign-in, Gatehouse's part (start + callback) | ${ms(quantile(t.provider, 0.5))} | ${ms(quantile(t.provider, 0.99))} | ${(quantile(t.provider, 0.5) / quantile(t.password, 0.5)).toFixed(2)} × |`,
  `| of which the callback (code exchange over TLS with the IdP, ID token check, session) | ${ms(quantile(t.callback, 0.5))} | ${ms(quantile(t.callback, 0.99))} | ${(quantile(t.callback, 0.5) / quantile(t.password, 0.5)).toFixed(2)} × |`,
];
if (!values["no-idle"]) {
  const none = await idleRss(false);
  const one = await idleRss(true);
  lines.push("", "| idle RSS of node dist/main.js | MB |", "|---|---:|", `| no provider | ${none} |`, `| one OpenID Connect provider configured | ${one} (${(one / none).toFixed(2)} ×, +${one - none} MB) |`);
}
const text = `${lines.join("\n")}\n`;
process.stdout.write(text);
if (values.out) writeFileSync(values.out, text);
