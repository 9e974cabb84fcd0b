import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, MAIL_PUBLIC_URL, uname } from "../helpers/mail.js";

/** Sends one raw HTTP/1.1 request and resolves with the status line. */
function rawRequest(port: number, head: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
    let data = "";
    socket.on("data", (c) => (data += c.toString("utf8")));
    socket.on("end", () => resolve(data.split("\r\n")[0] ?? ""));
    socket.on("error", reject);
  });
}

describe.each(backendNames())("attack: Host header injection into mailed links (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
    // The proxy is trusted, so X-Forwarded-Host is believed for the client IP: the link must still ignore it.
    h = await startHarness(backend, { SMTP_URL: sink.url, PUBLIC_URL: MAIL_PUBLIC_URL, TRUSTED_PROXIES: "127.0.0.1" });
  });
  afterAll(async () => {
    await h?.close();
    await sink?.stop();
  });

  async function victim(): Promise<string> {
    const name = uname("hosty");
    const email = `${name}@example.test`;
    await h.register(name, GOOD_PASSWORD, email);
    return email;
  }

  async function linksTo(email: string): Promise<string[]> {
    const mails = await inbox(h, sink, email);
    return mails.map((m) => m.link ?? "");
  }

  const injections: [string, Record<string, string>][] = [
    ["Host", { host: "evil.test" }],
    ["X-Forwarded-Host", { "x-forwarded-host": "evil.test", "x-forwarded-proto": "http" }],
    ["X-Host", { "x-host": "evil.test" }],
    ["Forwarded: host=", { forwarded: "for=1.2.3.4;host=evil.test;proto=http" }],
    ["X-Original-Host / X-Forwarded-Server", { "x-original-host": "evil.test", "x-forwarded-server": "evil.test" }],
  ];

  it.each(injections)("%s: the reset link keeps the PUBLIC_URL origin", async (_label, headers) => {
    const email = await victim();
    const res = await h.request({ method: "POST", url: "/api/auth/forgot-password", json: { email }, headers });
    expect(res.statusCode).toBe(202);
    const links = await linksTo(email);
    expect(links).toHaveLength(1);
    expect(new URL(links[0]!).origin).toBe(MAIL_PUBLIC_URL);
    expect(links[0]).not.toContain("evil");
  });

  it.each(injections)("%s: the verification link keeps the PUBLIC_URL origin", async (_label, headers) => {
    const email = await victim();
    await h.request({ method: "POST", url: "/api/auth/resend-verification", json: { email }, headers });
    const links = await linksTo(email);
    expect(links).toHaveLength(1);
    expect(new URL(links[0]!).origin).toBe(MAIL_PUBLIC_URL);
  });

  it("absolute-form request line (POST http://evil.test/api/auth/forgot-password) over a real socket", async () => {
    const email = await victim();
    await h.gh.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (h.gh.app.server.address() as AddressInfo).port;
    const body = JSON.stringify({ email });
    const status = await rawRequest(
      port,
      `POST http://evil.test/api/auth/forgot-password HTTP/1.1\r\nHost: evil.test\r\nOrigin: ${MAIL_PUBLIC_URL}\r\nContent-Type: application/json`,
      body,
    );
    expect(status).toMatch(/^HTTP\/1\.1 (202|400)/);
    const links = await linksTo(email);
    // Either refused outright or mailed with the configured origin: never a link to evil.test.
    for (const link of links) expect(new URL(link).origin).toBe(MAIL_PUBLIC_URL);
    if (status.includes("202")) expect(links).toHaveLength(1);
  });
});
