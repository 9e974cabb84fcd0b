// An Express 5 app protected by a remote Gatehouse (docs/express-middleware.md).
// Run: GATEHOUSE_URL=http://127.0.0.1:8080 npx tsx examples/express-app/server.ts
import express from "express";
import { gatehouseMiddleware } from "gatehouse/express";

const env = process.env;
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? "127.0.0.1";

const gatehouse = gatehouseMiddleware({
  // Gatehouse as this app reaches it; its TRUSTED_PROXIES must list this app's address.
  url: env.GATEHOUSE_URL ?? "http://127.0.0.1:8080",
  timeoutMs: Number(env.GATEHOUSE_TIMEOUT_MS ?? 3000),
  cache: { ttlMs: Number(env.GATEHOUSE_CACHE_TTL_MS ?? 5000) },
  // Gatehouse's own REDIS_URL: a sign-out on Gatehouse clears this cache at once.
  ...(env.REDIS_URL ? { revocations: { redisUrl: env.REDIS_URL } } : {}),
  onError: (err) => console.error("gatehouse:", err instanceof Error ? err.message : err),
});

const app = express();
// Behind a TLS-terminating proxy, say which one you trust: the scheme, host and client address
// Gatehouse is asked about are Express's req.protocol, req.host and req.ip.
if (env.TRUST_PROXY) app.set("trust proxy", env.TRUST_PROXY);
app.disable("x-powered-by");

// Everything below is protected by Gatehouse's access rules for this host.
app.use(gatehouse);

app.get("/", (req, res) => {
  res.type("text/plain").send(req.user ? `Hello, ${req.user.name}! Your groups: ${req.user.groups.join(", ")}\n` : "Hello, stranger!\n");
});

app.get("/whoami", (req, res) => {
  // req.user comes from Gatehouse's answer; a Remote-User header a client sent was removed before.
  res.json({ user: req.user ?? null, remoteUserHeader: req.headers["remote-user"] ?? null });
});

app.get("/admin", (req, res) => {
  // Gatehouse's rules decide who gets here; the app may still check the groups itself.
  res.json({ admin: true, user: req.user?.username });
});

const server = app.listen(port, host, () => console.log(`Express example listening on http://${host}:${port}`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void gatehouse.close();
  });
}
