// npx tsx bench/upload-guard.ts [--mb 20] [--runs 8] [--no-clamd] [--out bench/results/upload-guard.json]
// Streaming upload throughput through the reverse proxy, same process, same run:
//   plain   a rule without `uploads` (the body is streamed through),
//   guard   a rule with `uploads` (max_size, allowed_types: the type from the bytes, the multipart re-written),
//   clamd   the same plus `scan: clamav` (a local clamd with the test's EICAR-only database; skipped with --no-clamd).
// Each run POSTs one multipart/form-data body holding one file of --mb MB (a PDF header then random bytes)
// over loopback HTTP with Content-Length, and times it until the app's answer. Runs alternate between the
// variants; the medians and their ratios to `plain` are printed as JSON.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { createGatehouse } from "../src/compose.js";
import { loadConfig } from "../src/config/load-config.js";
import { startClamd, type TestClamd } from "../test/helpers/clamd.js";

const { values } = parseArgs({ options: { mb: { type: "string", default: "20" }, runs: { type: "string", default: "8" }, "no-clamd": { type: "boolean", default: false }, out: { type: "string" } } });
const MB = Number(values.mb);
const RUNS = Number(values.runs);

// The app: reads and counts every byte, then answers.
let received = 0;
const app = createServer((req, res) => {
  req.on("data", (c: Buffer) => (received += c.length));
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
});
await new Promise<void>((r) => app.listen(0, "127.0.0.1", () => r()));
const appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

let clamd: TestClamd | null = null;
if (!values["no-clamd"]) clamd = await startClamd();

const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-upload-"));
writeFileSync(
  join(dir, "rules.yml"),
  `access_control:
  default_policy: deny
  rules:
    - domain: app.test
      resources: ["^/guard"]
      policy: bypass
      body_limit: 64MB
      uploads: { max_size: 50MB, allowed_types: [application/pdf] }
    - domain: app.test
      resources: ["^/clamd"]
      policy: bypass
      body_limit: 64MB
      uploads: { max_size: 50MB, allowed_types: [application/pdf], scan: clamav }
    - domain: app.test
      resources: ["^/plain"]
      policy: bypass
      body_limit: 64MB
`,
);
const config = loadConfig({
  NODE_ENV: "test",
  SECRET_KEY: randomBytes(32).toString("hex"),
  GATEHOUSE_DATA_DIR: dir,
  UPSTREAM_URL: appUrl,
  GATEHOUSE_CONFIG: join(dir, "rules.yml"),
  PROXY_BODY_LIMIT: String(64 * 1024 * 1024),
  ...(clamd ? { CLAMD_URL: clamd.url, CLAMD_TIMEOUT: "60s" } : {}),
});
const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
await gh.app.listen({ port: 0, host: "127.0.0.1" });
const port = (gh.app.server.address() as AddressInfo).port;

const boundary = "----benchboundary";
const file = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(MB * 1_000_000 - 9)]);
const body = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="f"; filename="doc.pdf"\r\nContent-Type: application/pdf\r\n\r\n`), file, Buffer.from(`\r\n--${boundary}--\r\n`)]);

function upload(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { host: "app.test", "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(body.length) } });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on("error", reject);
    // Streamed in 64 KiB writes, as a client sends a file.
    let at = 0;
    const write = (): void => {
      while (at < body.length) {
        const chunk = body.subarray(at, at + 64 * 1024);
        at += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", write);
      }
      req.end();
    };
    write();
  });
}

const variants = ["plain", "guard", ...(clamd ? ["clamd"] : [])];
const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v, []]));
try {
  for (const v of variants) await upload(`/${v}/warm-up`);
  for (let i = 0; i < RUNS; i++) for (const v of variants) (times[v] as number[]).push(await upload(`/${v}/upload`));
} finally {
  await gh.close();
  await clamd?.close();
  app.closeAllConnections();
  app.close();
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const mbps = (ms: number): number => Math.round(((body.length / 1_000_000) / (ms / 1000)) * 10) / 10;
const plain = median(times.plain as number[]);
const result = {
  date: new Date().toISOString(),
  node: process.version,
  fileMB: MB,
  runs: RUNS,
  variants: Object.fromEntries(variants.map((v) => [v, { medianMs: Math.round(median(times[v] as number[])), MBps: mbps(median(times[v] as number[])), ratioToPlain: Math.round((plain / median(times[v] as number[])) * 100) / 100 }])),
  bytesAtApp: received,
};
console.log(JSON.stringify(result, null, 2));
if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
