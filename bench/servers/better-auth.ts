// Peer: Better Auth (SQLite through better-sqlite3, email + password), mounted
// through its documented Fastify integration (a catch-all /api/auth/* route
// converting the request to a Fetch Request). BENCH_BA_COOKIE_CACHE=on turns on
// its signed session-data cookie cache. Prints READY with a signed-in cookie.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { fromNodeHeaders } from "better-auth/node";
import Fastify from "fastify";

const cookieCache = process.env.BENCH_BA_COOKIE_CACHE === "on";
// Better Auth wants its base URL up front: find a free port first.
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const a = probe.address();
    probe.close(() => resolve(typeof a === "object" && a ? a.port : 0));
  });
});
const baseURL = `http://127.0.0.1:${port}`;
const app = Fastify({ logger: false });

const options = {
  database: new Database(join(mkdtempSync(join(tmpdir(), "gatehouse-bench-ba-")), "auth.db")),
  secret: randomBytes(32).toString("hex"),
  baseURL,
  trustedOrigins: [baseURL],
  emailAndPassword: { enabled: true },
  session: { cookieCache: { enabled: cookieCache, maxAge: 300 } },
  telemetry: { enabled: false },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

// The route of https://better-auth.com/docs/integrations/fastify, as documented.
app.route({
  method: ["GET", "POST"],
  url: "/api/auth/*",
  async handler(request, reply) {
    try {
      const url = new URL(request.url, `http://${request.headers.host}`);
      const headers = fromNodeHeaders(request.headers);
      const req = new Request(url.toString(), {
        method: request.method,
        headers,
        ...(request.body ? { body: JSON.stringify(request.body) } : {}),
      });
      const response = await auth.handler(req);
      reply.status(response.status);
      response.headers.forEach((value, key) => {
        reply.header(key, value);
      });
      return reply.send(response.body ? await response.text() : null);
    } catch {
      return reply.status(500).send({ error: "Internal authentication error", code: "AUTH_FAILURE" });
    }
  },
});
await app.listen({ port, host: "127.0.0.1" });

const res = await fetch(`${baseURL}/api/auth/sign-up/email`, {
  method: "POST",
  headers: { "content-type": "application/json", origin: baseURL },
  body: JSON.stringify({ email: `bench${randomBytes(4).toString("hex")}@example.com`, password: "bench-orchid-lantern-93", name: "Bench" }),
});
if (!res.ok) throw new Error(`Better Auth sign-up failed: ${res.status} ${await res.text()}`);
const cookie = res.headers
  .getSetCookie()
  .map((c) => c.split(";")[0])
  .join("; ");
process.stdout.write(`READY ${JSON.stringify({ port, cookie })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
