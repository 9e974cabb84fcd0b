import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { afterEach, describe, expect, it } from "vitest";
import { createGatehouse, type ComposeOptions, type Gatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createManualClock, type ManualClock } from "../../src/core/clock.js";
import { backendNames, createBackend, type Backend } from "../helpers/backends.js";
import { GOOD_PASSWORD, RELAXED_LIMITS } from "../helpers/harness.js";
import { captureLogger } from "../helpers/log-capture.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";

const PUBLIC_URL = "https://auth.example.test";
let seq = 0;

/** Instances of Gatehouse sharing one database, as after a restart or with two replicas. */
function cluster() {
  const secret = randomBytes(32).toString("hex");
  const opened: Gatehouse[] = [];
  const backends: Backend[] = [];
  const sinks: SmtpSink[] = [];
  let backend: Backend | null = null;
  return {
    async sink() {
      const s = await startSmtpSink();
      sinks.push(s);
      return s;
    },
    /** A new process on the shared database; the worker polls only when `pollMs` is given. */
    async start(name: Backend["name"], env: Record<string, string>, clock: ManualClock, mail: ComposeOptions["mail"] = { pollMs: 0 }) {
      if (!backend) {
        backend = await createBackend(name);
        backends.push(backend);
      }
      const logs = captureLogger();
      const config = loadConfig({ NODE_ENV: "test", SECRET_KEY: secret, LOG_LEVEL: "debug", PUBLIC_URL, ...RELAXED_LIMITS, REGISTRATION: "open", ...backend.env, ...env });
      const gh = await createGatehouse({ config, logger: logs.logger, clock, mail, ...(backend.schema ? { schema: backend.schema } : {}) });
      await gh.app.ready();
      opened.push(gh);
      return { gh, logs };
    },
    async stop(gh: Gatehouse) {
      opened.splice(opened.indexOf(gh), 1);
      await gh.close();
    },
    async release() {
      for (const gh of opened.splice(0)) await gh.close().catch(() => undefined);
      for (const s of sinks.splice(0)) await s.stop();
      for (const b of backends.splice(0)) await b.cleanup();
      backend = null;
    },
  };
}

async function registerAndForget(gh: Gatehouse): Promise<string> {
  const name = `outbox${++seq}x${process.pid % 1000}`;
  const email = `${name}@example.test`;
  const post = (url: string, json: unknown) =>
    gh.app.inject({ method: "POST", url, headers: { origin: PUBLIC_URL, "content-type": "application/json" }, payload: JSON.stringify(json) });
  expect((await post("/api/auth/register", { username: name, password: GOOD_PASSWORD, email })).statusCode).toBe(201);
  expect((await post("/api/auth/forgot-password", { email })).statusCode).toBe(202);
  await gh.mail.mailer.idle();
  return email;
}

describe.each(backendNames())("durable outbox (%s)", (backendName) => {
  const c = cluster();
  afterEach(async () => c.release());

  it("SMTP down, then up: the mail is delivered once, after a retry with backoff; the failure is logged without the link", async () => {
    const sink = await c.sink();
    const port = sink.port;
    await sink.stop();
    const clock = createManualClock(Date.now());
    const { gh, logs } = await c.start(backendName, { SMTP_URL: `smtp://127.0.0.1:${port}?ignoreTLS=true` }, clock);
    const email = await registerAndForget(gh);
    expect(await gh.mail.flush()).toBe(0);
    expect(await gh.mail.outbox.counts()).toMatchObject({ pending: 1, sent: 0 });
    const warning = logs.lines.find((l) => l.includes("will retry"));
    expect(warning).toBeDefined();
    expect(logs.text()).not.toContain("#token=");
    expect(logs.text()).not.toContain(email);

    await sink.start();
    clock.advance(10_000);
    expect(await gh.mail.flush()).toBe(0); // not due yet: the first retry waits 30 s
    clock.advance(21_000);
    expect(await gh.mail.flush()).toBe(1);
    expect(await gh.mail.flush()).toBe(0);
    expect(sink.to(email)).toHaveLength(1);
    expect(await gh.mail.outbox.counts()).toMatchObject({ pending: 0, sent: 1 });
  });

  it("a process killed between writing the outbox row and sending: the next process delivers it, once", async () => {
    const sink = await c.sink();
    const clock = createManualClock(Date.now());
    const first = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    const email = await registerAndForget(first.gh);
    expect(await first.gh.mail.outbox.counts()).toMatchObject({ pending: 1 });
    await c.stop(first.gh); // no worker ran: the row was written, the mail never sent
    expect(sink.mails).toHaveLength(0);

    const second = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    expect(await second.gh.mail.flush()).toBe(1);
    expect(await second.gh.mail.flush()).toBe(0);
    const third = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    expect(await third.gh.mail.flush()).toBe(0);
    expect(sink.to(email)).toHaveLength(1);
    expect(sink.to(email)[0]!.link).toMatch(/^https:\/\/auth\.example\.test\/reset-password#token=/);
  });

  it("a worker that died holding a claim: the row is sent by another once the lease has ended", async () => {
    const sink = await c.sink();
    const clock = createManualClock(Date.now());
    const { gh } = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    const email = await registerAndForget(gh);
    const claimed = await gh.mail.outbox.claimDue("dead-worker", clock.now(), 120_000, 10);
    expect(claimed).toHaveLength(1);
    expect(await gh.mail.flush()).toBe(0);
    clock.advance(121_000);
    expect(await gh.mail.flush()).toBe(1);
    expect(await gh.mail.outbox.markSent(claimed[0]!.id, "dead-worker", clock.now())).toBe(false);
    expect(sink.to(email)).toHaveLength(1);
  });

  it("two instances draining the same outbox at once send every mail exactly once", async () => {
    const sink = await c.sink();
    const clock = createManualClock(Date.now());
    const a = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    const b = await c.start(backendName, { SMTP_URL: sink.url }, clock);
    const emails = [];
    for (let i = 0; i < 4; i++) emails.push(await registerAndForget(i % 2 === 0 ? a.gh : b.gh));
    const [sentA, sentB] = await Promise.all([a.gh.mail.flush(), b.gh.mail.flush()]);
    expect(sentA + sentB).toBe(4);
    for (const email of emails) expect(sink.to(email)).toHaveLength(1);
  });

  it("gives up after the last attempt, blanks the body and logs an error", async () => {
    const sink = await c.sink();
    const port = sink.port;
    await sink.stop();
    const clock = createManualClock(Date.now());
    const { gh, logs } = await c.start(backendName, { SMTP_URL: `smtp://127.0.0.1:${port}?ignoreTLS=true` }, clock, {
      pollMs: 0,
      policy: { leaseMs: 60_000, maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000, retentionMs: 86_400_000 },
    });
    await registerAndForget(gh);
    for (let i = 0; i < 3; i++) {
      await gh.mail.flush();
      clock.advance(10_000);
    }
    expect(await gh.mail.outbox.counts()).toMatchObject({ pending: 0, failed: 1 });
    const rows = await gh.database.db.selectFrom("mail_outbox").select(["payload", "attempts"]).execute();
    expect(rows).toEqual([{ payload: "", attempts: 3 }]);
    expect(logs.lines.some((l) => l.includes("giving up"))).toBe(true);
  });

  it("smtp:// without ?ignoreTLS=true insists on STARTTLS: a server that does not offer it gets nothing", async () => {
    const sink = await c.sink(); // offers no STARTTLS
    const clock = createManualClock(Date.now());
    const { gh, logs } = await c.start(backendName, { SMTP_URL: `smtp://127.0.0.1:${sink.port}` }, clock);
    await registerAndForget(gh);
    expect(await gh.mail.flush()).toBe(0);
    expect(sink.mails).toHaveLength(0);
    expect(logs.lines.some((l) => l.includes("will retry"))).toBe(true);
  });

  it("an SMTPS server with a self-signed certificate is refused (certificates are verified), and the failure logged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-tls-"));
    try {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
      let received = 0;
      const server = new SMTPServer({
        secure: true,
        key: readFileSync(join(dir, "key.pem")),
        cert: readFileSync(join(dir, "cert.pem")),
        authOptional: true,
        logger: false,
        onData(stream, _s, cb) {
          received++;
          stream.resume();
          stream.on("end", () => cb());
        },
      });
      server.on("error", () => undefined); // the client hanging up on the untrusted certificate is the expected outcome
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      const port = (server.server.address() as AddressInfo).port;
      try {
        const clock = createManualClock(Date.now());
        const { gh, logs } = await c.start(backendName, { SMTP_URL: `smtps://127.0.0.1:${port}` }, clock);
        await registerAndForget(gh);
        expect(await gh.mail.flush()).toBe(0);
        expect(received).toBe(0);
        expect(logs.lines.find((l) => l.includes("will retry"))).toMatch(/SELF_SIGNED|ESOCKET|certificate/i);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
