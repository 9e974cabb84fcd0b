import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";
import { ScannerUnavailableError, type FileScanner, type ScanVerdict } from "../core/uploads/file-scanner.js";

/** Where clamd listens: `tcp://host:port` or `unix:/path/to/clamd.ctl`. */
export type ClamdAddress = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

/** Reads `CLAMD_URL`; throws a plain Error naming the expected forms. */
export function parseClamdUrl(raw: string): ClamdAddress {
  const value = raw.trim();
  if (value.startsWith("unix:")) {
    const path = value.slice(5).replace(/^\/\//, "");
    if (path.startsWith("/")) return { kind: "unix", path };
  } else if (value.startsWith("tcp://")) {
    const url = new URL(value);
    const port = Number(url.port);
    if (url.hostname !== "" && Number.isInteger(port) && port > 0 && url.pathname.replace(/^\/$/, "") === "") return { kind: "tcp", host: url.hostname.replace(/^\[|\]$/g, ""), port };
  }
  throw new Error("must be tcp://host:port or unix:/path/to/clamd.socket");
}

const CHUNK = 64 * 1024;

/**
 * A {@link FileScanner} on clamd's `zINSTREAM` command: the file is sent in
 * size-prefixed chunks (4-byte big-endian length) ended by a zero length, and
 * the one reply (`stream: OK`, `stream: <signature> FOUND`, or an error such as
 * `INSTREAM size limit exceeded`) is parsed. A connection failure, a timeout
 * (`timeoutMs` of silence) or an error reply is a {@link ScannerUnavailableError}.
 */
export function createClamdScanner(address: ClamdAddress, timeoutMs: number): FileScanner {
  return {
    scan(file: Readable | Uint8Array): Promise<ScanVerdict> {
      return new Promise<ScanVerdict>((resolve, reject) => {
        const socket: Socket = address.kind === "tcp" ? connect({ host: address.host, port: address.port }) : connect({ path: address.path });
        let reply = "";
        let settled = false;
        const fail = (message: string, cause?: unknown): void => {
          if (settled) return;
          settled = true;
          socket.destroy();
          if (!(file instanceof Uint8Array)) file.destroy();
          reject(new ScannerUnavailableError(`clamd: ${message}`, { cause }));
        };
        socket.setTimeout(timeoutMs, () => fail("timed out"));
        socket.on("error", (err) => fail("connection failed", err));
        socket.on("data", (chunk: Buffer) => {
          reply += chunk.toString("latin1");
          if (reply.length > 4096) fail("reply too long");
          if (reply.includes("\0")) finish();
        });
        socket.on("end", () => finish());
        socket.on("close", () => finish());
        const finish = (): void => {
          if (settled) return;
          const line = reply.split("\0")[0]?.trim() ?? "";
          if (line === "") return fail("no reply");
          settled = true;
          socket.destroy();
          const verdict = parseClamdReply(line);
          if (verdict === null) reject(new ScannerUnavailableError(`clamd answered: ${line.slice(0, 200)}`));
          else resolve(verdict);
        };
        const frame = (data: Uint8Array): boolean => {
          const size = Buffer.alloc(4);
          size.writeUInt32BE(data.byteLength);
          socket.write(size);
          return socket.write(data);
        };
        socket.once("connect", () => {
          socket.write("zINSTREAM\0");
          if (file instanceof Uint8Array) {
            for (let at = 0; at < file.byteLength; at += CHUNK) frame(file.subarray(at, at + CHUNK));
            socket.write(Buffer.alloc(4));
            return;
          }
          file.on("data", (chunk: Buffer) => {
            if (!frame(chunk)) {
              file.pause();
              socket.once("drain", () => file.resume());
            }
          });
          file.once("end", () => socket.write(Buffer.alloc(4)));
          file.once("error", (err) => fail("the file stream failed", err));
        });
      });
    },
  };
}

/** `stream: OK` → clean; `stream: <name> FOUND` → infected; anything else (an `… ERROR` line) → null. */
export function parseClamdReply(line: string): ScanVerdict | null {
  const body = line.replace(/^stream:\s*/, "");
  if (body === "OK") return { clean: true };
  const found = /^(.+) FOUND$/.exec(body);
  if (found?.[1] !== undefined) return { clean: false, signature: found[1].trim() };
  return null;
}
