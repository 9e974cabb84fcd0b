import { createServer, type Server } from "node:http";

/**
 * An "attacker" site on another loopback address (127.0.0.2, so another
 * origin and another site than Gatehouse's 127.0.0.1) that frames a page,
 * plus a harmless control page on 127.0.0.1 without any framing headers,
 * which proves cross-origin frames do load in this browser.
 */
export interface FramingSite {
  /** The URL of a page on the attacker origin framing `target` (iframe name "target") and the control page (iframe name "control"). */
  framing(target: string): string;
  close(): Promise<void>;
}

/** The text the control page shows. */
export const CONTROL_TEXT = "plain control page";

/** Starts the framing site. */
export async function startFramingSite(): Promise<FramingSite> {
  let control = "";
  const handler = (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/plain") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(`<!doctype html><title>plain</title><p>${CONTROL_TEXT}</p>`);
      return;
    }
    if (url.pathname === "/frame") {
      const target = url.searchParams.get("target") ?? "";
      const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;");
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(`<!doctype html><title>evil</title><iframe name="control" src="${attr(control)}"></iframe><iframe name="target" src="${attr(target)}"></iframe>`);
      return;
    }
    res.writeHead(404).end();
  };
  const listen = (host: string) =>
    new Promise<{ server: Server; port: number }>((resolve, reject) => {
      const server = createServer(handler);
      server.once("error", reject);
      server.listen(0, host, () => {
        const addr = server.address();
        resolve({ server, port: typeof addr === "object" && addr ? addr.port : 0 });
      });
    });
  const evil = await listen("127.0.0.2");
  const plain = await listen("127.0.0.1");
  control = `http://127.0.0.1:${plain.port}/plain`;
  const servers = [evil.server, plain.server];
  const evilPort = evil.port;
  return {
    framing: (target) => `http://127.0.0.2:${evilPort}/frame?target=${encodeURIComponent(target)}`,
    close: async () => {
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) s.closeAllConnections();
      await Promise.all(closed);
    },
  };
}
