import { createHash, timingSafeEqual } from "node:crypto";
import { TextDecoder } from "node:util";
import { GatehouseError } from "../core/errors.js";

const SUFFIX = /,"sha256":"([0-9a-f]{64})"\}\s*$/;
const TAIL_BYTES = 128;

/**
 * Incrementally builds a backup document: the caller appends the JSON text
 * of the document without its closing brace, piece by piece; {@link seal}
 * appends `,"sha256":"<hex>"}`, where the digest covers exactly the document
 * without its `sha256` member (`<everything before it>}`), byte for byte.
 */
export interface DocumentWriter {
  write(text: string): void;
  seal(): Buffer;
}

/** Creates a {@link DocumentWriter}; memory grows with the document only. */
export function createDocumentWriter(): DocumentWriter {
  const hash = createHash("sha256");
  const chunks: Buffer[] = [];
  return {
    write(text) {
      const chunk = Buffer.from(text, "utf8");
      hash.update(chunk);
      chunks.push(chunk);
    },
    seal() {
      hash.update("}");
      chunks.push(Buffer.from(`,"sha256":"${hash.digest("hex")}"}`, "utf8"));
      const out = Buffer.concat(chunks);
      chunks.length = 0;
      return out;
    },
  };
}

/**
 * Seals a complete JSON object text (`{…}` without a `sha256` member) the
 * same way {@link createDocumentWriter} does. Exported for tools and tests
 * that craft documents; a valid checksum only proves the file is intact,
 * never that its content is acceptable.
 */
export function sealDocument(json: string): Buffer {
  const body = json.trimEnd();
  if (!body.endsWith("}")) throw new Error("sealDocument expects a JSON object text");
  const writer = createDocumentWriter();
  writer.write(body.slice(0, -1));
  return writer.seal();
}

/**
 * Verifies the checksum of a plain document before anything parses it and
 * returns its text. Any flipped, missing or added byte → `integrity_error`.
 */
export function openDocument(bytes: Buffer): string {
  const tailStart = Math.max(0, bytes.length - TAIL_BYTES);
  const tail = bytes.subarray(tailStart).toString("latin1");
  const match = SUFFIX.exec(tail);
  if (bytes[0] !== 0x7b || !match) throw new GatehouseError("integrity_error", { fields: ["sha256"] });
  const end = tailStart + match.index;
  const actual = createHash("sha256").update(bytes.subarray(0, end)).update("}").digest();
  const expected = Buffer.from(match[1]!, "hex");
  if (!timingSafeEqual(actual, expected)) throw new GatehouseError("integrity_error", { fields: ["sha256"] });
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new GatehouseError("integrity_error", { fields: ["encoding"] });
  }
}
