// Baseline: the ceiling for anything on Node here — a bare Fastify JSON route.
import Fastify from "fastify";

const app = Fastify({ logger: false });
app.get("/hello", async () => ({ hello: "world" }));
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
