import type { AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** A received mail, parsed. */
export interface ReceivedMail {
  to: string;
  from: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  raw: string;
  /** The first token link in the text body, if any. */
  link: string | null;
  /** The token in that link's fragment, if any. */
  token: string | null;
}

/** A real SMTP server in the test process that keeps every mail it accepts. */
export interface SmtpSink {
  readonly port: number;
  /** `SMTP_URL` pointing at this server (plaintext, as for a local relay). */
  readonly url: string;
  readonly mails: ReceivedMail[];
  /** Mails to one address. */
  to(address: string): ReceivedMail[];
  /** Waits until at least `n` mails arrived (throws after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Stops listening (SMTP "down"); {@link start} listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

function addressesOf(mail: ParsedMail): string {
  const to = mail.to;
  if (!to) return "";
  const list = Array.isArray(to) ? to : [to];
  return list.flatMap((a) => a.value.map((v) => v.address ?? "")).join(",");
}

function toReceived(mail: ParsedMail, raw: string): ReceivedMail {
  const text = mail.text ?? "";
  const link = /https?:\/\/\S+#token=[A-Za-z0-9_-]+/.exec(text)?.[0] ?? null;
  return {
    to: addressesOf(mail),
    from: mail.from?.text ?? "",
    subject: mail.subject ?? "",
    text,
    html: typeof mail.html === "string" ? mail.html : "",
    messageId: mail.messageId ?? "",
    raw,
    link,
    token: link === null ? null : decodeURIComponent(link.slice(link.indexOf("#token=") + 7)),
  };
}

/** Starts an SMTP sink on a free port of 127.0.0.1. */
export async function startSmtpSink(port = 0): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  let server: SMTPServer | null = null;
  let boundPort = port;

  function create(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then((parsed) => {
              mails.push(toReceived(parsed, raw.toString("utf8")));
              callback();
            })
            .catch((err: Error) => callback(err));
        });
      },
    });
  }

  async function start(): Promise<void> {
    server = create();
    const s = server;
    s.on("error", () => undefined); // clients that hang up mid-session are not test failures
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(boundPort, "127.0.0.1", () => resolve());
    });
    boundPort = (s.server.address() as AddressInfo).port;
  }

  await start();
  return {
    get port() {
      return boundPort;
    },
    get url() {
      return `smtp://127.0.0.1:${boundPort}?ignoreTLS=true`;
    },
    mails,
    to: (address) => mails.filter((m) => m.to.toLowerCase() === address.toLowerCase()),
    async waitFor(n, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (mails.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} mails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return mails;
    },
    async stop() {
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start,
  };
}
