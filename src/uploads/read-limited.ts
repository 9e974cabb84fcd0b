import type { Readable } from "node:stream";

/**
 * Reads a stream into memory, at most `max` bytes: one byte more and it stops
 * (`tooLarge`), keeping nothing beyond the limit. The stream's own error rejects.
 */
export function readLimited(stream: Readable, max: number): Promise<{ bytes: Buffer; tooLarge: false } | { bytes: null; seen: number; tooLarge: true }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let seen = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      if (done) return;
      seen += chunk.length;
      if (seen > max) {
        done = true;
        chunks.length = 0;
        stream.off("data", onData);
        stream.pause();
        resolve({ bytes: null, seen, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    stream.on("data", onData);
    stream.once("end", () => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.concat(chunks, seen), tooLarge: false });
    });
    stream.once("error", (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}
