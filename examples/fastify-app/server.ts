// A small Fastify app with Gatehouse embedded (library mode): run with
//   SECRET_KEY=$(openssl rand -hex 32) REGISTRATION=open npx tsx --conditions=source examples/fastify-app/server.ts
// then open http://localhost:3000/ and sign up at /auth/register. See README.md next to this file.
import Fastify from "fastify";
import { gatehouse } from "gatehouse/fastify";

const port = Number(process.env.PORT ?? 3000);
const hostname = process.env.HOST ?? "127.0.0.1";
const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? "info" } });

// Gatehouse's API and pages under /auth; its settings are the server's environment variables
// (SECRET_KEY, PUBLIC_URL, DATABASE_URL, REDIS_URL, REGISTRATION…). Awaited: it must see the routes below.
await app.register(gatehouse, { prefix: "/auth", env: { PUBLIC_URL: `http://localhost:${port}`, ...process.env } });

// Handlers may be sync or async; these compute their answer at once.
// Public: signed-in visitors are recognised, anonymous ones let through.
app.get("/", { config: { access: "public" } }, (request) => ({
  hello: request.user?.username ?? "stranger",
  signIn: app.gatehouse.loginUrl("/"),
}));

// Signed-in users only. Identity comes from the session cookie, never from a request header:
// a client sending `Remote-User: admin` is still whoever its cookie says (or 401).
app.get("/whoami", { config: { access: "user" } }, (request) => ({
  user: request.user,
  session: request.session,
}));

// Administrators only (superadmins pass too).
app.get("/admin/report", { config: { access: "admin" } }, (request) => ({ report: "all good", for: request.user?.username }));

// A state-changing route: Gatehouse's cross-site check runs before the body is read.
app.post("/notes", { config: { access: "user" } }, (request) => ({ saved: true, by: request.user?.username }));

// Not opted in: Gatehouse adds nothing to this route (no hook, no header, no session lookup).
app.get("/health", () => ({ ok: true }));

const address = await app.listen({ port, host: hostname });
process.stdout.write(`fastify-app listening on ${address}\n`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
