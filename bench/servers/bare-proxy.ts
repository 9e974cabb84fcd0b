// Baseline for the reverse proxy: a bare @fastify/http-proxy to UPSTREAM_URL, no auth.
import proxy from "@fastify/http-proxy";
import Fastify from "fastify";

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error("bare-proxy: UPSTREAM_URL is required");
const app = Fastify({ logger: false });
await app.register(proxy, { upstream });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
