import { createServer, type IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhookAlerts } from "../../src/alerts/webhook-alerts.js";
import type { AuditEvent } from "../../src/core/audit/audit-event.js";
import { createAuditLog, escapeControl } from "../../src/core/audit/audit-log.js";
import type { AuditStore } from "../../src/core/audit/audit-store.js";
import { createManualClock } from "../../src/core/clock.js";
import { cryptoRandom } from "../../src/core/random.js";

/** An in-memory AuditStore that keeps appended events (the SQL store has its own conformance suite). */
function keepingStore(): AuditStore & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return {
    events,
    append: async (e) => void events.push(e),
    list: async () => [...events].reverse(),
    query: async () => [...events].reverse(),
    pruneBefore: async () => 0,
    countByHour: async () => [],
    countSince: async () => 0,
    userIdsSince: async () => [],
  };
}

describe("audit log forgery: control characters are escaped (LOG-04)", () => {
  it("escapes CR, LF, NUL and ESC so one event stays one line", () => {
    expect(escapeControl('bob\r\n{"type":"login_success"}\u0000\u001b[31m')).toBe('bob\\u000d\\u000a{"type":"login_success"}\\u0000\\u001b[31m');
  });

  it("records the User-Agent and string details escaped, and hands each event to every sink", async () => {
    const store = keepingStore();
    const seen: AuditEvent[] = [];
    const audit = createAuditLog({
      store,
      clock: createManualClock(),
      random: cryptoRandom,
      sinks: [
        () => {
          throw new Error("a broken sink must not break recording");
        },
        (e) => seen.push(e),
      ],
    });
    const event = await audit.record({ type: "login_failure", ip: "192.0.2.1", userAgent: "ua\r\nforged: yes", details: { name: "x\ny" } });
    expect(event.userAgent).toBe("ua\\u000d\\u000aforged: yes");
    expect(event.details.name).toBe("x\\u000ay");
    expect(store.events).toHaveLength(1);
    expect(seen).toEqual([event]);
  });
});

describe("alert webhook: account_locked, ip_banned and suspicious_activity are POSTed asynchronously", () => {
  const received: { body: unknown; type: string | undefined }[] = [];
  let failFirst = 0;
  let hang = false;
  let url = "";
  const server = createServer((req: IncomingMessage, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString()));
    req.on("end", () => {
      if (hang) return; // never answers: the client's timeout must fire
      if (failFirst > 0) {
        failFirst--;
        res.writeHead(500).end();
        return;
      }
      received.push({ body: JSON.parse(data), type: req.headers["content-type"] });
      res.writeHead(204).end();
    });
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/hook`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function auditWith(alerts: ReturnType<typeof createWebhookAlerts>) {
    return createAuditLog({ store: keepingStore(), clock: createManualClock(), random: cryptoRandom, sinks: [alerts] });
  }

  it("sends only the alert types, as JSON, and retries after a failure", async () => {
    received.length = 0;
    failFirst = 1;
    const alerts = createWebhookAlerts({ url, retryDelaysMs: [10, 10] });
    const audit = auditWith(alerts);
    await audit.record({ type: "login_failure", ip: "192.0.2.1", userAgent: "x" });
    await audit.record({ type: "ip_banned", ip: "192.0.2.1", userAgent: "x", details: { trips: 5 } });
    await audit.record({ type: "account_locked", ip: "192.0.2.1", userAgent: "x", userId: "u1" });
    await alerts.idle();
    expect(received.map((r) => (r.body as { event: { type: string } }).event.type).sort()).toEqual(["account_locked", "ip_banned"]);
    expect(received[0]!.type).toBe("application/json");
    expect((received[0]!.body as { event: { at: string } }).event.at).toMatch(/Z$/);
  });

  it("never blocks the request: record() resolves while the webhook hangs, and the timeout ends the attempt", async () => {
    hang = true;
    const errors: unknown[] = [];
    const alerts = createWebhookAlerts({ url, timeoutMs: 100, retryDelaysMs: [], onError: (err) => errors.push(err) });
    const audit = auditWith(alerts);
    let settled = false;
    const recorded = audit.record({ type: "suspicious_activity", ip: "192.0.2.1", userAgent: "x" }).then(() => (settled = true));
    await recorded;
    expect(settled).toBe(true);
    await alerts.idle();
    expect(errors).toHaveLength(1);
    hang = false;
  });
});
