// A local upstream app for the proxy scenarios: node:http, a small JSON answer.
import { createServer } from "node:http";

const body = JSON.stringify({ hello: "from upstream" });
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`READY ${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
